"""One module per scenario of issue 6. Each has ID, TITLE, TARGET and `run(ctx) -> list[Result]`
(raising `bench.core.Skip` when its feature does not exist yet), and may have
`prepare_small(ctx) -> dict` that runs first on the 100-user database (query counts)."""
