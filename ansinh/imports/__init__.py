"""The import pipeline (SPEC sections 2 and 10), above the apps whose facts it writes.

One file, module by module: ``run.import_run`` (the door: CLI, page, API, job) →
``pipeline.import_file`` → ``reading.open_source`` (the file's rows) → ``header`` (its
columns) → the KIND's importer (``kinds.IMPORTERS``, e.g. ``registry.importers``; the
protocol is ``core.importer.protocol``) → back in ``run``: the KPI snapshot
(``monitoring.services``) and the arrears worklists (``arrears.services``), plain calls.
``messages`` words the result, ``jobs`` runs big files outside the request, ``preview`` and
``undo`` are SPEC section 10, ``views``/``urls`` the import page, ``template_files`` the XLSX
templates."""
