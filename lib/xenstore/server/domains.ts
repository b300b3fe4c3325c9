/** Introduced domains (xenstored_domain.c); dom0 counts as introduced from the start. */
export interface DomainInfo {
  domid: number;
  mfn: string;
  port: number;
  target: number | undefined;
}

export class DomainTable {
  private readonly domains = new Map<number, DomainInfo>([[0, { domid: 0, mfn: '0', port: 0, target: undefined }]]);

  isIntroduced(domid: number): boolean {
    return this.domains.has(domid);
  }

  /** Returns true when the domain is new (only then does @introduceDomain fire). */
  introduce(domid: number, mfn: string, port: number): boolean {
    const old = this.domains.get(domid);
    this.domains.set(domid, { domid, mfn, port, target: old?.target });
    return !old;
  }

  release(domid: number): boolean {
    return this.domains.delete(domid);
  }

  setTarget(domid: number, target: number): void {
    const d = this.domains.get(domid);
    if (d) d.target = target;
  }

  list(): DomainInfo[] {
    return [...this.domains.values()];
  }
}
