"""File-drop source against a local folder: markers, newest full, delta windows, formats, bad rows."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from norcekit.imports.sources import Source, SourceError
from norcekit.imports.sources.filedrop import FileDropOptions, FileDropSource, LocalFileStore

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def write(root: Path, rel: str, content: str | bytes, *, done: bool = True) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    if done:
        path.with_name(path.name + ".done").write_bytes(b"")
    return path


def source(root: Path, **overrides: object) -> FileDropSource:
    options = FileDropOptions.model_validate(
        {
            "root": str(root),
            "entities": {
                "onhand": {"key_fields": ["part_no", "warehouse_code"]},
                "products": {"key_fields": ["code"]},
            },
            **overrides,
        }
    )
    return FileDropSource("erp_files", options, LocalFileStore(root), clock=lambda: T0)


CSV = "part_no,warehouse_code,onhand_value,updated_at\nA-1,MAIN,5,2026-11-27T07:00:00Z\nA-2,MAIN,,\n"


def test_is_a_source(tmp_path: Path) -> None:
    assert isinstance(source(tmp_path), Source)


def test_full_reads_newest_complete_export_and_ignores_unmarked_files(tmp_path: Path) -> None:
    write(tmp_path, "onhand/full/20261126T080000Z.csv", CSV.replace("A-1", "OLD"))
    write(tmp_path, "onhand/full/20261127T080000Z.csv", CSV)
    # Newer by name but still being written: no .done marker, so it must not be read.
    write(tmp_path, "onhand/full/20261128T080000Z.csv", "part_no,warehouse_code\nHALF,", done=False)

    records = list(source(tmp_path).iter_all("onhand"))

    assert [r.key for r in records] == ["A-1|MAIN", "A-2|MAIN"]
    assert records[0].data == {
        "part_no": "A-1",
        "warehouse_code": "MAIN",
        "onhand_value": "5",
        "updated_at": "2026-11-27T07:00:00Z",
    }
    assert records[1].data is not None and records[1].data["onhand_value"] is None  # empty cell → None
    assert records[0].changed_at == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert records[1].changed_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # file's own timestamp
    assert records[0].origin.endswith("onhand/full/20261127T080000Z.csv:2")


def test_snapshot_position_is_the_newest_complete_full_exports_timestamp(tmp_path: Path) -> None:
    """A full import's watermark is when the export was taken, not when the run happened."""
    drop = source(tmp_path)
    assert drop.snapshot_position("onhand") is None
    write(tmp_path, "onhand/full/20261126T080000Z.csv", CSV)
    write(tmp_path, "onhand/full/20261127T063000Z.csv", CSV)
    write(tmp_path, "onhand/full/20261127T075000Z.csv", CSV, done=False)

    assert drop.snapshot_position("onhand") == datetime(2026, 11, 27, 6, 30, tzinfo=UTC)


def test_full_without_any_complete_export_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path, "onhand/full/20261127T080000Z.csv", CSV, done=False)
    with pytest.raises(SourceError, match=r"no complete full export for 'onhand'.*\.done"):
        list(source(tmp_path).iter_all("onhand"))


def test_delta_reads_only_complete_files_inside_half_open_window(tmp_path: Path) -> None:
    for stamp in ("20261127T070000Z", "20261127T073000Z", "20261127T080000Z"):
        write(tmp_path, f"onhand/delta/{stamp}.csv", f"part_no,warehouse_code\n{stamp},MAIN\n")
    write(tmp_path, "onhand/delta/20261127T074500Z.csv", "part_no,warehouse_code\nLATE,MAIN\n", done=False)

    got = list(source(tmp_path).iter_changed("onhand", datetime(2026, 11, 27, 7, 15, tzinfo=UTC), T0))

    # 07:00 is before `since`; 08:00 equals `until` (excluded); 07:45 has no marker yet.
    assert [r.key for r in got] == ["20261127T073000Z|MAIN"]


def test_delta_without_since_reads_everything_before_until_in_order(tmp_path: Path) -> None:
    write(tmp_path, "onhand/delta/20261127T073000Z-b.csv", "part_no,warehouse_code\nB,MAIN\n")
    write(tmp_path, "onhand/delta/20261127T070000.250Z-a.csv", "part_no,warehouse_code\nA,MAIN\n")
    got = list(source(tmp_path).iter_changed("onhand", None, T0))
    assert [r.key for r in got] == ["A|MAIN", "B|MAIN"]


def test_naive_window_bound_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no timezone"):
        list(source(tmp_path).iter_changed("onhand", None, datetime(2026, 11, 27)))


def test_gzip_and_jsonl(tmp_path: Path) -> None:
    write(tmp_path, "products/full/20261127T080000Z.jsonl.gz", '{"code": "P1", "names": {"sv-SE": "Å"}}\n\n')
    records = list(source(tmp_path).iter_all("products"))
    assert [(r.key, r.data) for r in records] == [("P1", {"code": "P1", "names": {"sv-SE": "Å"}})]


def test_gzipped_csv(tmp_path: Path) -> None:
    write(tmp_path, "onhand/full/20261127T080000Z.csv.gz", CSV)
    assert [r.key for r in source(tmp_path).iter_all("onhand")] == ["A-1|MAIN", "A-2|MAIN"]


def test_malformed_json_line_becomes_error_record_and_rest_continue(tmp_path: Path) -> None:
    content = '{"code": "P1"}\n{"code": oops}\n[1, 2]\n{"name": "no key"}\n'
    content += '{"code": "P5", "updated_at": "yesterday"}\n'
    content += '{"code": "P6"}\n'
    write(tmp_path, "products/full/20261127T080000Z.jsonl", content)

    records = list(source(tmp_path).iter_all("products"))

    assert [r.key for r in records if r.ok] == ["P1", "P6"]
    errors = [r for r in records if not r.ok]
    assert [e.error.split(":")[0] for e in errors if e.error] == ["line 2", "line 3", "line 4", "line 5"]
    assert errors[0].data is None and "invalid JSON" in (errors[0].error or "")
    assert errors[0].raw == '{"code": oops}\n'
    assert "expected a JSON object" in (errors[1].error or "")
    assert "key field(s) code missing" in (errors[2].error or "")
    assert "updated_at 'yesterday' is not an ISO-8601 timestamp" in (errors[3].error or "")
    assert errors[0].origin.endswith(":2") and errors[0].key == errors[0].origin


def test_csv_wrong_column_count_and_bad_utf8_are_error_records(tmp_path: Path) -> None:
    content = b"part_no,warehouse_code\nA,MAIN\nB,MAIN,EXTRA\nC\xff,MAIN\nD,MAIN\n"
    write(tmp_path, "onhand/full/20261127T080000Z.csv", content)

    records = list(source(tmp_path).iter_all("onhand"))

    assert [r.key for r in records if r.ok] == ["A|MAIN", "D|MAIN"]
    assert [r.error for r in records if not r.ok] == [
        "line 3: expected 2 columns, found 3",
        "line 4: not valid UTF-8",
    ]


def test_truncated_gzip_raises_instead_of_importing_a_partial_full(tmp_path: Path) -> None:
    path = write(tmp_path, "onhand/full/20261127T080000Z.csv.gz", CSV * 50)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(SourceError, match="cannot be read to the end"):
        list(source(tmp_path).iter_all("onhand"))


def test_unknown_entity_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(
        SourceError, match=r"not configured for entity 'customers' \(configured: onhand, products\)"
    ):
        list(source(tmp_path).iter_all("customers"))
    with pytest.raises(SourceError, match="does not exist"):
        list(source(tmp_path / "missing").iter_all("onhand"))


def test_sequence_naming_uses_cursor_positions(tmp_path: Path) -> None:
    for seq in ("000007", "000008", "000009"):
        write(tmp_path, f"onhand/delta/{seq}.csv", f"part_no,warehouse_code\nS{seq},MAIN\n")
    write(tmp_path, "onhand/delta/000010.csv", "part_no,warehouse_code\nX,MAIN\n", done=False)
    drop = source(tmp_path, delta_naming="sequence")

    assert drop.capabilities.watermark_kind == "cursor"
    assert drop.now("onhand") == 10  # exclusive high-water: the next sequence not yet complete
    got = list(drop.iter_changed("onhand", 8, drop.now("onhand")))
    assert [(r.key, r.cursor) for r in got] == [("S000008|MAIN", 8), ("S000009|MAIN", 9)]
    with pytest.raises(SourceError, match="sequence positions"):
        list(drop.iter_changed("onhand", T0, T0))


def test_sequence_high_water_stops_below_a_file_still_being_written(tmp_path: Path) -> None:
    """Exporters finishing out of order: 000009 is complete while 000008 is still being written. A
    high-water of 10 would be committed, and 000008's rows skipped for good once its marker lands."""
    write(tmp_path, "onhand/delta/000007.csv", "part_no,warehouse_code\nS7,MAIN\n")
    late = write(tmp_path, "onhand/delta/000008.csv", "part_no,warehouse_code\nS8,MAIN\n", done=False)
    write(tmp_path, "onhand/delta/000009.csv", "part_no,warehouse_code\nS9,MAIN\n")
    drop = source(tmp_path, delta_naming="sequence")

    first_upper = drop.now("onhand")
    first = [r.key for r in drop.iter_changed("onhand", 7, first_upper)]
    late.with_name(late.name + ".done").write_bytes(b"")
    second = [r.key for r in drop.iter_changed("onhand", first_upper, drop.now("onhand"))]

    assert first_upper == 8
    assert first == ["S7|MAIN"]
    assert second == ["S8|MAIN", "S9|MAIN"]


def test_now_is_the_clock_in_utc(tmp_path: Path) -> None:
    assert source(tmp_path).now() == T0
