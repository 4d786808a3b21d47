import pgvector from 'pgvector';

/**
 * An embedding as a query parameter for `$n::vector`.
 *
 * PostgreSQL gets pgvector's binary wire format (what `vector_recv` reads: int16 dimensions, int16
 * unused, then one big-endian float4 per dimension). `pg` sends a Buffer parameter as binary, so a
 * 1536-dimension vector travels as 6 KB instead of ~32 KB of printed doubles, and neither side prints
 * or parses a float: a turn indexes dozens of chunks, and this was a large share of its CPU.
 * PGlite sends every parameter as text, so it gets pgvector's text form.
 */
export type VectorParam = (embedding: ArrayLike<number>) => Buffer | string;

export const binaryVectorParam: VectorParam = (embedding) => {
  const n = embedding.length;
  const buf = Buffer.allocUnsafe(4 + 4 * n);
  buf.writeInt16BE(n, 0);
  buf.writeInt16BE(0, 2);
  for (let i = 0; i < n; i++) buf.writeFloatBE(embedding[i]!, 4 + 4 * i);
  return buf;
};

export const textVectorParam: VectorParam = (embedding) => pgvector.toSql(Array.from(embedding));
