// Go to Definition's search in a workspace folder: the rules are in src/domain/definitions.ts; this
// backs its reader with vscode.workspace.findFiles and vscode.workspace.fs, so it works for remote and
// virtual folders too and never runs, imports or requires workspace code.
import * as vscode from 'vscode';
import {
  DEFAULT_DEFINITION_BOUNDS,
  DefinitionBounds,
  DefinitionIO,
  EXCLUDE_GLOB,
  FALLBACK_GLOBS,
  GATE_GLOBS,
  searchDefinitions,
} from '../domain/definitions';

export { hasDefinition } from '../domain/definitions';

export interface DefinitionCandidate {
  uri: vscode.Uri;
  /** 0-based line of the declaration. */
  line: number;
  /** Relative to the workspace folder, with `/` (for the quick pick). */
  relativePath: string;
  /** The declaration line, trimmed, single-line, at most 160 characters (workspace text: escape it where Markdown is built). */
  preview: string;
}

export interface DefinitionSearchResult {
  /** Ranked best first. */
  candidates: DefinitionCandidate[];
  /** Files read. */
  filesSearched: number;
  /** The search did not see everything: a bound (files, bytes, time) was hit, a file could not be read, or it was cancelled. */
  truncated: boolean;
  /** The token was cancelled before the search finished (candidates are what it had found). */
  cancelled?: boolean;
  /** Files that could not be read (counted in `truncated`). */
  unreadable?: number;
  /** True when no gate folder declared it and the candidates come from the wider scripts/** search. */
  fallback?: boolean;
}

/** `uri` relative to `base` with `/`, or null when it is not inside it. */
function relativeTo(base: vscode.Uri, uri: vscode.Uri): string | null {
  if (uri.scheme !== base.scheme || uri.authority !== base.authority) return null;
  const root = base.path.endsWith('/') ? base.path : `${base.path}/`;
  if (uri.path.startsWith(root)) return uri.path.slice(root.length);
  // A Windows drive letter may come back in the other case (/C:/ vs /c:/).
  const head = uri.path.slice(0, root.length);
  return uri.scheme === 'file' && head.toLowerCase() === root.toLowerCase() ? uri.path.slice(root.length) : null;
}

function folderIO(folder: vscode.WorkspaceFolder, token: vscode.CancellationToken): DefinitionIO {
  const at = (rel: string) => vscode.Uri.joinPath(folder.uri, ...rel.split('/'));
  return {
    async listFiles(scope, max) {
      const out: string[] = [];
      for (const glob of scope === 'gates' ? GATE_GLOBS : FALLBACK_GLOBS) {
        if (out.length >= max || token.isCancellationRequested) break;
        let uris: vscode.Uri[];
        try {
          uris = await vscode.workspace.findFiles(
            new vscode.RelativePattern(folder, glob),
            EXCLUDE_GLOB,
            max - out.length,
            token,
          );
        } catch (e) {
          // Cancelled (or out of time) while listing: the search stops with what it has, and says so.
          if (token.isCancellationRequested) break;
          throw e;
        }
        for (const u of uris) {
          const rel = relativeTo(folder.uri, u);
          if (rel !== null) out.push(rel);
        }
      }
      return out;
    },
    async stat(rel) {
      try {
        const st = await vscode.workspace.fs.stat(at(rel));
        return st.type & vscode.FileType.File ? { size: st.size } : null;
      } catch (e) {
        if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') return null;
        throw e;
      }
    },
    read: async (rel) => vscode.workspace.fs.readFile(at(rel)),
    now: () => Date.now(),
    isCancelled: () => token.isCancellationRequested,
  };
}

/**
 * Finds where a gate or sub-agent is declared in the folder, without running workspace code. Bounded
 * (DEFAULT_DEFINITION_BOUNDS: 10,000 files, 1 MB per file, 10 s); honours the token between files and
 * resolves with what it found when cancelled. Rejects only when the folder cannot be listed (findFiles
 * fails): say "could not search", never "not found". Candidates are ranked best first; `preview` and
 * `relativePath` are workspace text (plain strings; a quick pick renders `$(…)` as an icon).
 */
export async function findDefinitions(
  folder: vscode.WorkspaceFolder,
  dimensionType: string,
  dimensionKey: string,
  token: vscode.CancellationToken,
  hints?: { workflowExecutionIds?: readonly string[] },
  bounds: DefinitionBounds = DEFAULT_DEFINITION_BOUNDS,
): Promise<DefinitionSearchResult> {
  // The time bound also stops a slow listing: findFiles gets a token that fires at the deadline.
  const timer = new vscode.CancellationTokenSource();
  const linked = token.onCancellationRequested(() => timer.cancel());
  const deadline = setTimeout(() => timer.cancel(), bounds.timeMs);
  try {
    const io = { ...folderIO(folder, timer.token), isCancelled: () => token.isCancellationRequested };
    const found = await searchDefinitions(dimensionType, dimensionKey, io, {
      workflowExecutionIds: hints?.workflowExecutionIds,
      bounds,
    });
    return {
      candidates: found.hits.map((h) => ({
        uri: vscode.Uri.joinPath(folder.uri, ...h.relativePath.split('/')),
        line: h.line,
        relativePath: h.relativePath,
        preview: h.preview,
      })),
      filesSearched: found.filesSearched,
      truncated: found.truncated || (timer.token.isCancellationRequested && !token.isCancellationRequested),
      cancelled: found.cancelled || token.isCancellationRequested,
      unreadable: found.unreadable,
      fallback: found.hits.some((h) => h.fallback),
    };
  } finally {
    clearTimeout(deadline);
    linked.dispose();
    timer.dispose();
  }
}
