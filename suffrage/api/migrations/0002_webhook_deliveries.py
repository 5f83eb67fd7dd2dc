# Outbound webhooks: each delivery names its campaign (scoped reads, erasure) and the
# person its event is about; an event reaches a subscription once.

import django.db.models.deletion
from django.db import migrations, models


def campaign_from_subscription(apps, schema_editor):
    delivery = apps.get_model("api", "WebhookDelivery")
    subscription = apps.get_model("api", "WebhookSubscription")
    delivery.objects.update(
        campaign_id=models.Subquery(
            subscription.objects.filter(pk=models.OuterRef("subscription_id")).values("campaign_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("core", "0004_audit_object_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="campaign",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.campaign"
            ),
        ),
        migrations.RunPython(campaign_from_subscription, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="campaign",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.campaign"),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="last_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="person_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log"),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["campaign", "person_id"], name="webhook_delivery_person"),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["created_at"], name="webhook_delivery_created"),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(fields=("subscription", "event_id"), name="webhook_delivery_once"),
        ),
    ]
