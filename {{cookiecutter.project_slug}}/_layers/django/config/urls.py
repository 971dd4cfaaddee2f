"""The project's URLs: the app's pages, at the root."""

from django.urls import include, path

urlpatterns = [
    path("", include("{{ cookiecutter.project_slug }}.urls")),
]

# Django's own error pages, in this app's look (production: DEBUG is off).
handler400 = "{{ cookiecutter.project_slug }}.views.bad_request"
handler403 = "{{ cookiecutter.project_slug }}.views.permission_denied"
handler404 = "{{ cookiecutter.project_slug }}.views.page_not_found"
handler500 = "{{ cookiecutter.project_slug }}.views.server_error"
