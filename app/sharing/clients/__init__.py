"""The caseworker's side: their clients and notes (`service`, `routes`), and what they read and
draft of a client's diary within the client's consent (`data`, `data_routes`)."""
