"""The columns of a participations file, read by its importer (``registry.importers``) and by
the PostgreSQL fast path that stages it (``registry.fastcopy``)."""

# the columns SPEC section 2 requires, then the optional ones
PART_REQUIRED = ("person_id", "unit_code", "scheme", "group", "start_date")
PART_OPTIONAL = (
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
# in staging order (fastcopy stages them alike)
PART_COLUMNS = PART_REQUIRED + PART_OPTIONAL
