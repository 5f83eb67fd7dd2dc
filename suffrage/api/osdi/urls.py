"""The OSDI entry point's addresses, mounted at /api/osdi/v1/. Each is answered with
or without its final slash: OSDI clients write both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path

from suffrage.api.osdi import views

app_name = "osdi"


def both(route: str, view: Callable[..., Any], name: str) -> list[URLPattern]:
    return [path(route, view, name=name), path(f"{route}/", view)]


urlpatterns = [
    path("", views.entry_point, name="entry_point"),
    *both("people", views.people, "people"),
    *both("people/person_signup", views.person_signup, "person_signup"),
    *both("people/person_signup_helper", views.person_signup, "person_signup_helper"),
    *both("people/<int:person_id>", views.person, "person"),
    *both("people/<int:person_id>/taggings", views.person_taggings, "person_taggings"),
    *both("people/<int:person_id>/attendances", views.person_attendances, "person_attendances"),
    *both("people/<int:person_id>/submissions", views.person_submissions, "person_submissions"),
    *both("people/<int:person_id>/signatures", views.person_signatures, "person_signatures"),
    *both("tags", views.tags, "tags"),
    *both("tags/<int:tag_id>", views.tag, "tag"),
    *both("tags/<int:tag_id>/taggings", views.tag_taggings, "tag_taggings"),
    *both("tags/<int:tag_id>/taggings/<int:tagging_id>", views.tagging, "tagging"),
    *both("lists", views.lists, "lists"),
    *both("lists/<int:segment_id>", views.static_list, "list"),
    *both("lists/<int:segment_id>/items", views.list_items, "list_items"),
    *both("lists/<int:segment_id>/items/<int:item_id>", views.list_item, "list_item"),
    *both("events", views.events, "events"),
    *both("events/<int:event_id>", views.event, "event"),
    *both("events/<int:event_id>/attendances", views.event_attendances, "attendances"),
    *both("events/<int:event_id>/attendances/<int:rsvp_id>", views.attendance, "attendance"),
    *both("events/<int:event_id>/record_attendance_helper", views.record_attendance_helper, "record_attendance"),
    *both("events/<int:event_id>/attendances/record_attendance_helper", views.record_attendance_helper, "attend"),
    *both("forms", views.forms, "forms"),
    *both("forms/<int:action_id>", views.form, "form"),
    *both("forms/<int:action_id>/submissions", views.form_submissions, "submissions"),
    *both("forms/<int:action_id>/submissions/<int:submission_id>", views.submission, "submission"),
    *both("petitions", views.petitions, "petitions"),
    *both("petitions/<int:action_id>", views.petition, "petition"),
    *both("petitions/<int:action_id>/signatures", views.petition_signatures, "signatures"),
    *both("petitions/<int:action_id>/signatures/<int:submission_id>", views.signature, "signature"),
]
