from django.urls import path

from suffrage.people import views

app_name = "people"

urlpatterns = [
    path("", views.person_list, name="list"),
    path("counts/", views.person_counts, name="counts"),
    path("bulk/", views.person_bulk, name="bulk"),
    path("new/", views.person_new, name="new"),
    path("export/", views.person_export, name="export"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("duplicates/merge/", views.duplicate_bulk_merge, name="duplicates_merge"),
    path("duplicates/<int:person_id>/<int:other_id>/", views.duplicate_compare, name="duplicate_compare"),
    path("fields/", views.custom_field_list, name="custom_fields"),
    path("fields/new/", views.custom_field_edit, name="custom_field_new"),
    path("fields/<int:field_id>/", views.custom_field_edit, name="custom_field_edit"),
    path("<int:person_id>/", views.person_detail, name="detail"),
    path("<int:person_id>/edit/", views.person_edit, name="edit"),
    path("<int:person_id>/channels/", views.person_add_channel, name="add_channel"),
    path("<int:person_id>/consent/", views.person_consent, name="consent"),
    path("<int:person_id>/do-not-contact/", views.person_do_not_contact, name="do_not_contact"),
    path("<int:person_id>/notes/", views.person_note, name="note"),
    path("<int:person_id>/support/", views.person_support, name="support"),
]
