"""A Flask app that signs people in with Logto and keeps their tokens in a server-side session."""
