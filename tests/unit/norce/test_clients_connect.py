"""ConnectClient: headers on the wire, streamed body, and the not-idempotent retry rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import orjson
import pytest
import respx
from tests.unit.norce.clients_support import (
    APP_ID,
    CONNECT,
    FakeClock,
    HandlerTransport,
    preseeded_tokens,
    token_response,
)

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider
from norcekit.norce.connect import CHUNK_BYTES, ConnectClient
from norcekit.norce.contracts import IMPORT_KINDS, SkuOnhand, SkuOnhandHeader
from norcekit.norce.contracts.headers import ProductHeader
from norcekit.norce.contracts.product import Product
from norcekit.norce.http import NorceHttp, NorceHTTPError, NorceUnavailable

ONHAND_URL = f"{CONNECT}/Product/ImportOnhands"
HEADER = SkuOnhandHeader(AccountId=123, FullFile=False, SkuOnhandFieldsThatAreSet=[3, 10])


def onhand(n: int) -> SkuOnhand:
    return SkuOnhand(
        PartNo=f"SKU-{n:06d}", WarehouseCode="MAIN", LocationCode="STO", OnhandValue=n, IsActive=True
    )


def accepted(job_id: str = "4711") -> httpx.Response:
    return httpx.Response(200, json={"StatusCode": "OK", "JobId": job_id, "ValidationSummary": None})


class Recorder:
    """respx side effect that reads each streamed body like a server would, then answers."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer  # before reading: the body never left the client
        self.requests.append(request)
        self.bodies.append(b"".join(request.stream))  # type: ignore[arg-type]
        return answer


def streaming_connect(handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock) -> ConnectClient:
    http = NorceHttp(httpx.Client(transport=HandlerTransport(handler)), sleep=clock.sleep)
    return ConnectClient(http, preseeded_tokens(http, clock), connect_base_url=CONNECT, application_id=APP_ID)


@pytest.fixture
def connect(http: NorceHttp, tokens: TokenProvider) -> ConnectClient:
    return ConnectClient(http, tokens, connect_base_url=CONNECT, application_id=APP_ID)


def test_import_sends_norce_headers(connect: ConnectClient, router: respx.MockRouter) -> None:
    recorder = Recorder(accepted())
    router.post(ONHAND_URL).mock(side_effect=recorder)
    result = connect.import_onhands(HEADER, [onhand(1)], deadline=Deadline.none())
    headers = recorder.requests[0].headers
    assert headers["X-StormConnect-Header"] == (
        '{"AccountId":123,"FullFile":false,"SkuOnhandFieldsThatAreSet":[3,10],"SerializationType":0}'
    )
    assert headers["application-id"] == str(APP_ID)
    assert headers["Authorization"] == "Bearer tok-1"
    assert headers["Content-Type"] == "application/json"
    assert result.job_id == 4711
    assert result.items_sent == 1
    assert result.kind == "onhand"


def test_body_is_streamed_chunked_and_parses_to_the_items(
    connect: ConnectClient, router: respx.MockRouter
) -> None:
    recorder = Recorder(accepted())
    router.post(ONHAND_URL).mock(side_effect=recorder)
    items = [onhand(n) for n in range(5000)]  # > several 64 KiB chunks
    result = connect.import_onhands(HEADER, iter(items), deadline=Deadline.none())
    request = recorder.requests[0]
    assert request.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in request.headers
    body = recorder.bodies[0]
    assert len(body) > 3 * CHUNK_BYTES
    assert orjson.loads(body) == [orjson.loads(item.model_dump_json(exclude_none=True)) for item in items]
    assert result.items_sent == 5000


def test_streaming_does_not_materialise_the_items(clock: FakeClock) -> None:
    """Items are pulled as chunks are written: at most one chunk's worth is ahead of the socket."""
    produced = 0
    max_ahead = 0
    received = 0

    def generate() -> Iterator[SkuOnhand]:
        nonlocal produced, max_ahead
        for n in range(20_000):
            produced += 1
            max_ahead = max(max_ahead, produced - received)
            yield onhand(n)

    def server(request: httpx.Request) -> httpx.Response:
        nonlocal received
        for chunk in request.stream:  # type: ignore[union-attr]
            received += chunk.count(b"PartNo")
        return accepted()

    connect = streaming_connect(server, clock)
    result = connect.import_items("onhand", HEADER, generate(), deadline=Deadline.none())
    assert result.items_sent == 20_000
    assert received == 20_000
    assert max_ahead < 1000  # ~64 KiB of ~90-byte items, never the whole 20k


def test_empty_import_sends_an_empty_array(connect: ConnectClient, router: respx.MockRouter) -> None:
    recorder = Recorder(accepted())
    router.post(ONHAND_URL).mock(side_effect=recorder)
    assert connect.import_onhands(HEADER, [], deadline=Deadline.none()).items_sent == 0
    assert recorder.bodies == [b"[]"]


def test_import_retried_after_connect_error_and_503_resends_all_items(
    connect: ConnectClient, router: respx.MockRouter
) -> None:
    recorder = Recorder(httpx.ConnectError("refused"), httpx.Response(503), accepted())
    router.post(ONHAND_URL).mock(side_effect=recorder)
    items = [onhand(n) for n in range(3)]
    result = connect.import_onhands(HEADER, items, deadline=Deadline.none())
    assert len(recorder.bodies) == 2
    assert recorder.bodies[0] == recorder.bodies[1]
    assert len(orjson.loads(recorder.bodies[1])) == 3
    assert result.items_sent == 3


def test_items_factory_is_called_again_for_a_retry(connect: ConnectClient, router: respx.MockRouter) -> None:
    router.post(ONHAND_URL).mock(
        side_effect=Recorder(httpx.Response(429, headers={"Retry-After": "1"}), accepted())
    )
    calls = 0

    def fresh_items() -> Iterator[SkuOnhand]:
        nonlocal calls
        calls += 1
        return iter([onhand(1), onhand(2)])

    result = connect.import_onhands(HEADER, fresh_items, deadline=Deadline.none())
    assert calls == 2
    assert result.items_sent == 2


def test_one_shot_iterator_survives_a_connect_error(clock: FakeClock) -> None:
    """Nothing was read from the generator before the connection failed, so it can still be sent."""
    bodies: list[bytes] = []

    def refuse_once_then_read(request: httpx.Request) -> httpx.Response:
        if not bodies:
            bodies.append(b"")
            raise httpx.ConnectError("refused", request=request)
        bodies.append(b"".join(request.stream))  # type: ignore[arg-type]
        return accepted()

    connect = streaming_connect(refuse_once_then_read, clock)
    result = connect.import_onhands(HEADER, (onhand(n) for n in range(4)), deadline=Deadline.none())
    assert result.items_sent == 4
    assert len(orjson.loads(bodies[-1])) == 4


def test_one_shot_iterator_cannot_be_resent_after_streaming(
    connect: ConnectClient, router: respx.MockRouter
) -> None:
    route = router.post(ONHAND_URL).mock(side_effect=Recorder(httpx.Response(503), accepted()))
    with pytest.raises(NorceUnavailable, match="one-shot iterator"):
        connect.import_onhands(HEADER, (onhand(n) for n in range(4)), deadline=Deadline.none())
    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500, text="boom"), httpx.Response(502), httpx.Response(504)],
)
def test_import_not_retried_when_norce_may_have_processed_it(
    connect: ConnectClient, router: respx.MockRouter, failure: httpx.Response
) -> None:
    route = router.post(ONHAND_URL).mock(side_effect=Recorder(failure, accepted()))
    with pytest.raises(NorceHTTPError):
        connect.import_onhands(HEADER, [onhand(1)], deadline=Deadline.none())
    assert route.call_count == 1


def test_import_not_retried_after_a_read_timeout(connect: ConnectClient, router: respx.MockRouter) -> None:
    def read_then_time_out(request: httpx.Request) -> httpx.Response:
        b"".join(request.stream)  # type: ignore[arg-type]
        raise httpx.ReadTimeout("no answer", request=request)

    route = router.post(ONHAND_URL).mock(side_effect=read_then_time_out)
    with pytest.raises(NorceUnavailable, match="not idempotent"):
        connect.import_onhands(HEADER, [onhand(1)], deadline=Deadline.none())
    assert route.call_count == 1


def test_validation_400_surfaces_the_message(connect: ConnectClient, router: respx.MockRouter) -> None:
    router.post(ONHAND_URL).mock(return_value=httpx.Response(400, json={"Message": "AccountId is required"}))
    with pytest.raises(NorceHTTPError) as caught:
        connect.import_onhands(HEADER, [onhand(1)], deadline=Deadline.none())
    assert caught.value.status == 400
    assert caught.value.message == "AccountId is required"


def test_401_refreshes_the_token_and_resends_the_items(
    connect: ConnectClient, router: respx.MockRouter, token_route: respx.Route
) -> None:
    token_route.side_effect = [token_response("old"), token_response("new")]
    recorder = Recorder(httpx.Response(401), accepted())
    router.post(ONHAND_URL).mock(side_effect=recorder)
    result = connect.import_onhands(HEADER, [onhand(1), onhand(2)], deadline=Deadline.none())
    assert [r.headers["Authorization"] for r in recorder.requests] == ["Bearer old", "Bearer new"]
    assert result.items_sent == 2


@pytest.mark.parametrize("kind", sorted(IMPORT_KINDS))
def test_every_import_kind_posts_to_its_path(
    connect: ConnectClient, router: respx.MockRouter, kind: str
) -> None:
    route = router.post(f"{CONNECT}/{IMPORT_KINDS[kind].path}").mock(return_value=accepted("1"))
    result = connect.import_items(kind, '{"AccountId":1}', [{"Code": "x"}, b'{"Code":"y"}'])
    assert route.call_count == 1
    assert result.items_sent == 2
    assert orjson.loads(route.calls.last.request.content) == [{"Code": "x"}, {"Code": "y"}]


def test_typed_product_import_and_on_item_callback(connect: ConnectClient, router: respx.MockRouter) -> None:
    route = router.post(f"{CONNECT}/Product/ImportProducts").mock(return_value=accepted("9"))
    header = ProductHeader(AccountId=5, FullFile=True)
    seen: list[str] = []
    product = Product.model_validate(
        {
            "Code": "TS-100",
            "ManufacturerCode": "ACME",
            "Variants": [{"ManufacturerPartNo": "M", "Skus": [{"PartNo": "P1"}]}],
        }
    )
    result = connect.import_items(
        IMPORT_KINDS["products"], header, [product], on_item=lambda item: seen.append(item.Code)
    )
    assert seen == ["TS-100"]
    assert result.job_id == 9
    assert '"FullFile":true' in route.calls.last.request.headers["X-StormConnect-Header"]


def test_unknown_kind_and_multiline_header_are_rejected(connect: ConnectClient) -> None:
    with pytest.raises(ValueError, match="unknown import kind"):
        connect.import_items("widgets", HEADER, [])
    with pytest.raises(ValueError, match="single line"):
        connect.import_items("onhand", '{"AccountId":1,\n"FullFile":false}', [])
