/**
 * Inspections kept in memory for the open project (the latest few): results are a working view, not a record, so
 * they are not written to the catalog. A project switch or close starts a fresh set.
 */
import type { Inspection, InspectionSummary } from '../../shared/api/inspect.ts';
import { NotFoundError } from '../../shared/errors.ts';

/** Inspections kept per project; the oldest goes first. */
export const KEEP_INSPECTIONS = 20;

/** One project's inspections (handed to a running task, so its result lands only in the project it started in). */
export interface ProjectInspections {
  readonly dir: string;
  readonly inspections: Map<string, Inspection>;
}

export class InspectStore {
  private set: ProjectInspections | null = null;
  private readonly openDir: () => string;

  /** `openDir`: the open project's folder (throws when none is open). */
  constructor(openDir: () => string) {
    this.openDir = openDir;
  }

  /** The open project's set, a fresh one when the project changed since. */
  current(): ProjectInspections {
    const dir = this.openDir();
    if (!this.set || this.set.dir !== dir) this.set = { dir, inspections: new Map() };
    return this.set;
  }

  /** Forgets every inspection (the project closed). */
  clear(): void {
    this.set = null;
  }

  get(id: string): Inspection {
    const ins = this.current().inspections.get(String(id));
    if (!ins) throw new NotFoundError(`No inspection ${id} (results are kept while the project is open).`);
    return ins;
  }

  /** Keeps (or replaces) an inspection in the open project's set. */
  put(ins: Inspection): void {
    this.putInto(this.current(), ins);
  }

  /** Keeps an inspection in `set` when that is still the open project's set (a task may outlive its project). */
  putIfCurrent(set: ProjectInspections, ins: Inspection): void {
    if (this.set === set) this.putInto(set, ins);
  }

  /** Newest first. */
  list(): InspectionSummary[] {
    return [...this.current().inspections.values()].reverse().map((i) => ({
      id: i.id,
      runId: i.runId,
      runName: i.runName,
      count: i.items.length,
      ng: i.items.filter((x) => x.verdict === 'ng').length,
      createdAt: i.createdAt,
    }));
  }

  private putInto(set: ProjectInspections, ins: Inspection): void {
    const m = set.inspections;
    m.set(ins.id, ins);
    while (m.size > KEEP_INSPECTIONS) m.delete(m.keys().next().value!);
  }
}
