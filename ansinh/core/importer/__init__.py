"""What an app needs to declare a KIND of import file, below every app that does
(``ansinh.imports`` runs them): ``protocol`` (the ``Importer`` classes), ``rows`` (the
``Context`` a row is read with, row errors, cell parsers), ``staging``, ``merge``, ``undo``
(the ``UndoLog`` a write keeps), ``columns`` (the words of the files: headers, code lists) and
``db`` (the SQL helpers for SQLite and PostgreSQL)."""
