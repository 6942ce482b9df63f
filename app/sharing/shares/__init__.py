"""Officer shares, the victim's side: the link, its scope, expiry and passcode (`service`), their
routes and bodies (`schemas`, shared with the caseworker's reads). The officer's side is the
viewer (app.sharing.viewer*)."""
