"""Outbound webhooks: the campaign's events posted to other tools, signed.

- `events`: the event names a subscription chooses from, with their labels;
- `emit`: `webhook_emit` and one small emitter per event, called by the services where
  the events happen; deliveries are made after the commit, only for subscriptions
  listening to the event (one query when none does), and sent by a task;
- `addresses`: the address check against server-side request forgery (private,
  loopback, link-local… refused unless WEBHOOK_ALLOW_PRIVATE), at save and at send;
- `sending`: the signed POST to the checked address, retries with backoff, the
  automatic disabling after repeated failures, the tick that sends what is due and
  the pruning of old deliveries;
- `services` and `forms`: what the campaign's webhook pages do (create, edit, rotate
  the secret, ping, replay, re-enable, delete), audited.

docs/user/webhooks.md is the receiving side's documentation."""
