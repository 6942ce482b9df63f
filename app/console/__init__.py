"""The caseworker console: server-rendered pages under /console/ for support-service staff.

It is a second face on the caseworker API, never a second set of rules: sign-in calls the
API login's own `authenticate` (the same back-off, lock-out proof and answers), the session is
an ordinary server-side session (listed and revocable in GET /v1/sessions), every read of a
client goes through app.sharing.access and the scope table, and the chronology is drawn by
the share viewer's own partial (app/viewer/templates/chronology.html) from the one
presentation model (app.chronology.presentation).
"""
