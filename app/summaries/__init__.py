"""The course-of-conduct summary of one account, served: `summarise` loads the diary's facts
and the S-DASH screenings and hands them to the pure analysis in app.chronology, for
GET /v1/chronology, a caseworker's view of a client and the export jobs.

It sits above app.diary and app.risk (it reads both), so app.chronology imports nothing
else from the app.
"""
