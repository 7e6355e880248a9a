"""The compiled read path for the hot lead reads (``leads`` and ``lead``).

A query document is compiled once (:mod:`schema.compiled.plan`) into a plan of the fields it
selects. Executing a plan (:mod:`schema.compiled.run`) reads the page with projected
statements (only the columns the selection needs, rows without ORM models), loads each
relation in one batch (:mod:`schema.compiled.load`), decides every governed value through the
same batch decision function and the same request record as the field-access extension,
and builds the response directly (:mod:`schema.compiled.build`). Anything a plan does not
cover, and any request that would end in an error other than a denied field, falls back to
the general executor, which then answers exactly as it always did.
"""
