from django.apps import AppConfig as BaseAppConfig


class AppConfig(BaseAppConfig):
    name = "{{ cookiecutter.project_slug }}"
    verbose_name = "{{ cookiecutter.project_slug }}"
