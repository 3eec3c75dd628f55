import { type, type TextOp } from 'ot-text-unicode';
import { describe, expect, it } from 'vitest';
import { fromOperationFields, OtClient, toOperationInput, type CommittedEdit, type OutgoingEdit } from '../../src/client/ot-client.ts';

/** The server's commit rule in a few lines (contract): transform over every edit after baseVersion, side 'right'. */
function createServer(text: string) {
  const log: CommittedEdit[] = [];
  return {
    log,
    get text() {
      return text;
    },
    commit({ baseVersion, operation, clientEditId }: OutgoingEdit): CommittedEdit {
      let op = operation;
      for (const edit of log.slice(baseVersion)) op = type.transform(op, edit.operation, 'right');
      text = type.apply(text, op);
      const edit = { version: log.length + 1, operation: op, clientEditId };
      log.push(edit);
      return edit;
    },
  };
}

let ids = 0;
const client = (text = '', version = 0) => new OtClient({ text, version, newClientEditId: () => `e${++ids}` });

describe('OtClient', () => {
  it('applies own edits at once, keeps one in flight, buffers the rest and sends them after the echo', () => {
    const server = createServer('');
    const c = client();
    c.applyLocal(['ab']);
    c.applyLocal([2, 'c']);
    expect(c.text).toBe('abc');
    const first = c.takeOutgoing()!;
    expect(first).toMatchObject({ baseVersion: 0, operation: ['ab'] });
    c.applyLocal([3, '😀']);
    expect(c.takeOutgoing()).toBeNull();
    expect(c.receive(server.commit(first))).toBe(true);
    const second = c.takeOutgoing()!;
    // The two buffered edits went out as one, against version 1.
    expect(second).toMatchObject({ baseVersion: 1, operation: [2, 'c😀'] });
    c.receive(server.commit(second));
    expect([c.text, c.version, c.pending, server.text]).toEqual(['abc😀', 2, false, 'abc😀']);
  });

  it('converges with the server when concurrent inserts meet at one place: the one committed first stays left', () => {
    const server = createServer('xy');
    const [a, b] = [client('xy'), client('xy')];
    a.applyLocal([1, 'A']);
    b.applyLocal([1, 'B']);
    const [fromA, fromB] = [a.takeOutgoing()!, b.takeOutgoing()!];
    const committed = [server.commit(fromA), server.commit(fromB)];
    expect(server.text).toBe('xABy');
    for (const c of [a, b]) for (const edit of committed) c.receive(edit);
    expect([a.text, b.text]).toEqual(['xABy', 'xABy']);
  });

  it('transforms incoming edits against in-flight and buffered ones, code points included', () => {
    const server = createServer('🙂🙂🙂');
    const [a, b] = [client('🙂🙂🙂'), client('🙂🙂🙂')];
    a.applyLocal([{ d: 1 }]);
    const sent = a.takeOutgoing()!;
    a.applyLocal([1, '!']);
    b.applyLocal([3, 'z']);
    const byB = server.commit(b.takeOutgoing()!);
    a.receive(byB);
    b.receive(byB);
    const byA = server.commit(sent);
    a.receive(byA);
    b.receive(byA);
    const buffered = server.commit(a.takeOutgoing()!);
    a.receive(buffered);
    b.receive(buffered);
    expect(server.text).toBe('🙂!🙂z');
    expect([a.text, b.text, a.pending]).toEqual([server.text, server.text, false]);
  });

  it('sends nothing for an edit that concurrent edits undid before it left', () => {
    const server = createServer('abc');
    const [a, b] = [client('abc'), client('abc')];
    b.applyLocal([1, { d: 1 }]);
    a.applyLocal([1, { d: 1 }]);
    a.receive(server.commit(b.takeOutgoing()!));
    expect(a.takeOutgoing()).toBeNull();
    expect([a.text, a.pending]).toEqual(['ac', false]);
  });

  it('ignores a replayed version, refuses a gap, and resends the in-flight edit exactly as first sent', () => {
    const server = createServer('');
    const [a, b] = [client(), client()];
    a.applyLocal(['a']);
    const sent = a.takeOutgoing()!;
    const byB = server.commit((b.applyLocal(['b']), b.takeOutgoing()!));
    a.receive(byB);
    expect(a.receive(byB)).toBe(false);
    expect(a.resend()).toBe(sent);
    expect(() => a.receive({ version: 3, operation: ['x'], clientEditId: null })).toThrow(/expected version 2/);
  });

  it('maps ot components to GraphQL components one for one and back', () => {
    const op: TextOp = [2, 'é🙂', { d: 3 }];
    const fields = toOperationInput(op);
    expect(fields).toEqual([{ retain: 2 }, { insert: 'é🙂' }, { delete: 3 }]);
    expect(fromOperationFields(fields.map((f) => ({ retain: null, insert: null, delete: null, ...f })))).toEqual(op);
  });
});
