// Test fixtures made on the fly: Microsoft cabinets (MSZIP, the format of
// `.pd_`/`.ex_` files, R61) and PE images with another identity (R67).
import { deflateRawSync } from "node:zlib";

/**
 * A one-file cabinet holding `content` under `name`, in MSZIP blocks of
 * 32 KiB (zeros compress to almost nothing: 70 MiB of them make a cabinet
 * bomb of about 100 kB). Checksums are 0 ("not computed", which readers accept).
 * @param {string} name
 * @param {Buffer} content
 * @returns {Buffer}
 */
export function cabinet(name, content) {
  const blocks = [];
  const zero = Buffer.alloc(32768);
  const zeros = deflateRawSync(zero);
  for (let at = 0; at < content.length; at += 32768) {
    const part = content.subarray(at, at + 32768);
    const data = part.equals(zero) ? zeros : deflateRawSync(part);
    const h = Buffer.alloc(8);
    h.writeUInt16LE(data.length + 2, 4);
    h.writeUInt16LE(part.length, 6);
    blocks.push(h, Buffer.from("CK"), data);
  }
  const file = Buffer.concat([Buffer.alloc(16), Buffer.from(`${name}\0`, "latin1")]);
  file.writeUInt32LE(content.length, 0);
  file.writeUInt16LE(0x20, 14);
  const folder = Buffer.alloc(8);
  folder.writeUInt32LE(36 + 8 + file.length, 0);
  folder.writeUInt16LE(blocks.length / 3, 4);
  folder.writeUInt16LE(1, 6); // MSZIP
  const header = Buffer.alloc(36);
  header.write("MSCF", 0, "latin1");
  header.writeUInt32LE(36 + 8, 16);
  header.writeUInt8(3, 24);
  header.writeUInt8(1, 25);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(1, 28);
  const cab = Buffer.concat([header, folder, file, ...blocks]);
  cab.writeUInt32LE(cab.length, 8);
  return cab;
}

/**
 * A copy of the PE image `pe` with its COFF TimeDateStamp set to `timestamp`:
 * the same file under another key id (R67).
 * @param {Buffer} pe
 * @param {number} timestamp
 * @returns {Buffer}
 */
export function withTimestamp(pe, timestamp) {
  const copy = Buffer.from(pe);
  copy.writeUInt32LE(timestamp, copy.readUInt32LE(0x3c) + 8);
  return copy;
}
