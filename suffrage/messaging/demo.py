"""Demo email: settings, a sender, local sinks for email and text messages (nothing
leaves the machine; the texts carry the privacy page's codes), two templates, and a
mailing sent to a demo segment with its report (a few clicks, an unsubscribe, a
bounce). Idempotent."""

from __future__ import annotations

from suffrage.core.models import Campaign, Membership
from suffrage.core.roles import Role
from suffrage.messaging import engine, feedback, services
from suffrage.messaging.models import Delivery, Mailing, MailSettings
from suffrage.messaging.transports.base import Feedback
from suffrage.segments.models import Segment

INVITATION = """Bonjour {{ first_name|default:"à vous" }},

Nous vous invitons à la **réunion publique** du jeudi 12 mars à 19 h, salle du Patronage laïque
de Recouvrance : logement, transports, écoles, venez en débattre avec nous.

[Je m'inscris](https://brest-en-commun.example/reunion)

À bientôt,
L'équipe de campagne"""

NEWSLETTER = """Bonjour {{ first_name|default:"à vous" }},

Cette semaine :

- 240 portes frappées à Bellevue et Kerinou ;
- notre programme transports est en ligne : [le lire](https://brest-en-commun.example/transports) ;
- prochaine permanence samedi au marché de Saint-Martin.

Merci de votre soutien."""


def load(campaign: Campaign) -> None:
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    if owner is None or Mailing.objects.filter(campaign=campaign).exists():
        return
    actor = owner.user
    MailSettings.objects.update_or_create(
        campaign=campaign,
        defaults={
            "identity": f"{campaign.name} — 12 rue de Siam, 29200 Brest (adresse de démonstration)",
            "privacy_contact": "donnees@brest-en-commun.example",
            "brand_name": campaign.name,
        },
    )
    sender = services.sender_create(
        campaign=campaign,
        name=campaign.name,
        email="contact@brest-en-commun.example",
        reply_to="equipe@brest-en-commun.example",
        algorithm="rsa-sha256",
        actor=actor,
    )
    transport = services.transport_save(
        campaign=campaign,
        kind="sink",
        name="Démo : boîte locale (rien ne sort)",
        values={"folder": campaign.slug},
        rate_per_second=0,
        actor=actor,
    )
    services.transport_save(
        campaign=campaign,
        kind="sms_file",
        name="Démo : SMS dans un fichier local",
        values={"folder": campaign.slug, "sender_id": "BrestCommun"},
        rate_per_second=0,
        actor=actor,
    )
    for name, subject, body in (
        ("Invitation à une réunion publique", "Réunion publique jeudi 12 mars", INVITATION),
        ("Lettre d'information", "Les nouvelles de la semaine", NEWSLETTER),
    ):
        services.template_save(campaign=campaign, values={"name": name, "subject": subject, "body": body}, actor=actor)
    segment = Segment.objects.filter(campaign=campaign, document__icontains="email").first()
    if segment is None:
        return
    mailing = services.mailing_save(
        campaign=campaign,
        values={
            "name": "Invitation — réunion publique de Recouvrance",
            "sender": sender,
            "transport": transport,
            "segment": segment,
            "subject": '{{ first_name|default:"Bonjour" }}, réunion publique jeudi 12 mars',
            "body": INVITATION,
            "footer": services.default_footer(),
        },
        actor=actor,
    )
    services.mailing_start(mailing=mailing, actor=actor)
    engine.mailing_run(mailing.pk)
    _demo_feedback(mailing)


def _demo_feedback(mailing: Mailing) -> None:
    """What a week of replies looks like: clicks, one unsubscribe, one bounce."""
    deliveries = list(Delivery.objects.filter(mailing=mailing).select_related("person", "mailing__campaign")[:40])
    for delivery in deliveries[::3]:
        feedback.click_record(delivery, 0)
    if len(deliveries) > 2:
        feedback.unsubscribe(deliveries[1], everything=False, ip=None)
        bounced = deliveries[2]
        feedback.feedback_record(
            Feedback(
                kind="bounced",
                recipient=bounced.address,
                message_id=f"<m{mailing.pk}.d{bounced.pk}@x>",
                permanent=True,
                detail="5.1.1 user unknown (démo)",
            )
        )
