"""The columns of a participations file, read by its importer (``registry.importers``) and by
the PostgreSQL fast path that stages it (``registry.fastcopy``)."""

# in staging order (fastcopy stages them alike)
PART_COLUMNS = (
    "person_id",
    "unit_code",
    "scheme",
    "group",
    "start_date",
    "end_date",
    "household_id",
    "employer_code",
    "birth_date",
    "sex",
    "full_name",
    "phone",
    "address",
    "village",
    "consent",
    "email",
)
