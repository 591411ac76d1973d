"""An experiment campaign's report (issue 34): per arm, what its members did after their first exposure
and the uplift over the holdout, from the counters the stream keeps (rules/experiments, rules/health)."""

from __future__ import annotations

from ..errors import NotFound
from ..rules import experiments
from ..schemas import ExperimentReport
from ..store import Store
from . import programs


def report(store: Store, program_id: str, campaign_id: str) -> ExperimentReport:
    """One Query of the campaign's arm counters (a moment behind the writes, as every counted figure)."""
    program = programs.load(store, program_id)
    found = next((c for c in program.campaigns if c.id == campaign_id), None)
    if found is None:
        raise NotFound(f"campaign {campaign_id!r} not found", [{"field": "campaign_id", "message": "unknown campaign"}])
    rows = experiments.report(program, found, store.experiment_arms(program_id, campaign_id))
    return ExperimentReport.model_validate({"program_id": program_id, "campaign_id": campaign_id, "arms": rows})
