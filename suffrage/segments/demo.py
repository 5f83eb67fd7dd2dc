"""Demo segments: the audiences a campaign team would save first. Idempotent."""

from __future__ import annotations

from typing import Any

from suffrage.core.models import Campaign, Membership
from suffrage.core.roles import Role
from suffrage.elections.models import PriorityRanking
from suffrage.segments.compiler import context_for
from suffrage.segments.models import Segment
from suffrage.segments.services import segment_freeze, segment_save


def _document(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "filter": {"all": list(conditions)}}


def load(campaign: Campaign) -> None:
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    if owner is None or Segment.objects.filter(campaign=campaign).exists():
        return
    actor = owner.user
    context = context_for(campaign, can_sensitive=True)
    ranking = PriorityRanking.objects.filter(campaign=campaign).first()
    priority = [row["station"] for row in (ranking.scores if ranking else [])[:20]]
    supporters = {
        "any": [
            {"field": "support_level", "op": "in", "value": [1, 2]},
            {"field": "legal_basis", "op": "in", "value": ["member"]},
        ]
    }
    email = {"field": "reachable", "op": "is", "value": "email"}
    if ranking and priority:
        segment_save(
            campaign=campaign,
            name="Sympathisants joignables par courriel dans les bureaux prioritaires",
            description="Sympathisants ou adhérents ; les 20 premiers bureaux du classement « "
            + ranking.name
            + " » (ranking démo).",
            document=_document(supporters, email, {"field": "polling_station", "op": "in", "value": priority}),
            actor=actor,
            context=context,
        )
    segment_save(
        campaign=campaign,
        name="Bénévoles pas encore trouvés sur la liste électorale",
        document=_document(
            {
                "any": [
                    {"field": "flag", "op": "is", "value": "volunteer"},
                    {"field": "tag", "op": "any_of", "value": ["Bénévole porte-à-porte"]},
                ]
            },
            {"field": "roll_status", "op": "in", "value": ["not_found"]},
        ),
        actor=actor,
        context=context,
    )
    militants = segment_save(
        campaign=campaign,
        name="Militants joignables par SMS, sauf la presse",
        document=_document(
            {"field": "tag", "op": "any_of", "value": ["Militant"]},
            {"field": "reachable", "op": "is", "value": "sms"},
            {"not": {"field": "tag", "op": "any_of", "value": ["Presse"]}},
        ),
        actor=actor,
        context=context,
    )
    segment_freeze(
        campaign=campaign,
        name="Militants joignables par SMS — liste figée pour l'envoi de juin",
        document=militants.document,
        actor=actor,
    )
