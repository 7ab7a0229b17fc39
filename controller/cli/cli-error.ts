/** An error the operator can act on: `drover` prints its message alone and exits with status 1. */
export class CliError extends Error {}
