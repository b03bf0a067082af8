"""Local twins of the outside services (Bridge payment links, AR24): real HTTP servers on
loopback that speak each provider's documented contract. Tests use them, and so does
`o2c demo`, so the main command shows real requests going out without an account anywhere."""
