"""Export jobs: the rules (`service`), the routes for victims and caseworkers, the background
`runner` and the `results` it makes, and the `cleanup` of expired results."""
