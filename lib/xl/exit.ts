/** xl calling exit(status) after printing its message. */
export class XlExit extends Error {
  constructor(readonly status: number) {
    super(`xl exits with status ${status}`);
    this.name = 'XlExit';
  }
}
