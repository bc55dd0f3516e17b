"""Import pipeline: sources (ERP adapters) → mappings (rows → Connect contracts) → runner.

- :mod:`norcekit.imports.records`   ``SourceRecord``, watermark value types
- :mod:`norcekit.imports.sources`   ``Source`` protocol; file drop, REST, Business Central adapters
- :mod:`norcekit.imports.mappings`  built-in mappings, ``load_mapping('package.module:function')``
- :mod:`norcekit.imports.config`    the integration configuration file, ``load_config``, ``build_source``
"""
