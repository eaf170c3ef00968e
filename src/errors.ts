// A problem the user can fix (bad flag, missing file, unusable folder): printed as one sentence, exit code 3, no stack.
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 3) {
    super(message);
    this.name = "UserError";
    this.exitCode = exitCode;
  }
}
