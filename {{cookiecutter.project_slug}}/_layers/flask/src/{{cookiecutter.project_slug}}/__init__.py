"""{{ cookiecutter.project_name }}: a Flask app signed in with Logto, tokens in a server-side session."""
