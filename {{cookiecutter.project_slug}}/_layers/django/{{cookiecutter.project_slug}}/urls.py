from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("callback", views.callback, name="callback"),
    path("profile", views.profile, name="profile"),
    path("tokens", views.tokens, name="tokens"),
    path("call-api", views.call_api, name="call-api"),
    path("sessions", views.sessions, name="sessions"),
    path("sessions/end-others", views.end_other_sessions, name="end-other-sessions"),
    path("sessions/<str:handle>/end", views.end_session, name="end-session"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("backchannel-logout", views.backchannel_logout, name="backchannel-logout"),
    path("healthz", views.healthz, name="healthz"),
]
