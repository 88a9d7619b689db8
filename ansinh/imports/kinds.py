"""The KINDs of import file and the importer of each, in the order the CLI, the import page
and the API list them. Each importer lives in the app that owns its tables and follows the
protocol of ``core.importer.protocol``; this table names them all, so that a reader (or a
tool) goes from a KIND straight to its code."""

from __future__ import annotations

from ansinh.arrears.importers import ContributionsImporter, EmployersImporter
from ansinh.core.importer.protocol import Importer
from ansinh.geography.importers import PopulationImporter, SuccessorsImporter, UnitsImporter
from ansinh.outreach.importers import ActivitiesImporter, AttendeesImporter
from ansinh.registry.importers import CountsImporter, ParticipationsImporter
from ansinh.targets.importers import TargetsImporter

IMPORTERS: dict[str, type[Importer]] = {
    cls.kind: cls
    for cls in (
        UnitsImporter,
        PopulationImporter,
        TargetsImporter,
        ParticipationsImporter,
        CountsImporter,
        EmployersImporter,
        ContributionsImporter,
        ActivitiesImporter,
        AttendeesImporter,
        SuccessorsImporter,
    )
}

KINDS: tuple[str, ...] = tuple(IMPORTERS)


def importer_class(kind: str) -> type[Importer]:
    if kind not in IMPORTERS:
        raise ValueError(kind)
    return IMPORTERS[kind]
