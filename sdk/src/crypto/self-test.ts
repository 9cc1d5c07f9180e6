import { aesGcmDecrypt, aesGcmEncrypt } from "./aead.js";
import { bytesEqual, utf8 } from "./bytes.js";
import { fromHex, toHex } from "./encoding.js";
import { CryptoError } from "./errors.js";
import { handshakeHpke, shareHpke } from "./hpke.js";
import { hkdfSha256 } from "./kdf.js";
import { sign, verify } from "./signatures.js";

/**
 * Known-answer self-test (crypto.md §6: bad randomness or a broken platform destroys HPKE's
 * secrecy, so check the primitives where the code actually runs — an editor's extension host, a
 * browser). A few milliseconds; throws CryptoError `self_test_failed` naming the primitive.
 * Values: RFC 9180 A.3.1 (first encryption), RFC 5869 A.1, Wycheproof AES-GCM tcId 91.
 */
const A31 = {
  ikmE: "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
  ikmR: "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
  info: "4f6465206f6e2061204772656369616e2055726e",
  enc: "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4",
  pt: "4265617574792069732074727574682c20747275746820626561757479",
  aad: "436f756e742d30",
  ct: "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434",
};
const HKDF_A1 = {
  ikm: "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
  salt: "000102030405060708090a0b0c",
  info: "f0f1f2f3f4f5f6f7f8f9",
  okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
};
const GCM_91 = {
  key: "92ace3e348cd821092cd921aa3546374299ab46209691bc28b8752d17f123c20",
  iv: "00112233445566778899aabb",
  aad: "00000000ffffffff",
  msg: "00010203040506070809",
  sealed: "e27abdd2d2a53d2f136b9a4a2579529301bcfb71c78d4060f52c",
};

function check(ok: boolean, what: string): void {
  if (!ok) throw new CryptoError("self_test_failed", `crypto self-test failed: ${what}`);
}

export async function cryptoSelfTest(): Promise<void> {
  const recipient = await handshakeHpke.deriveKeyPair(fromHex(A31.ikmR));
  const sealed = await handshakeHpke.seal({
    recipientPublicKey: recipient.publicKey,
    info: fromHex(A31.info),
    aad: fromHex(A31.aad),
    plaintext: fromHex(A31.pt),
    testOnlyIkmE: fromHex(A31.ikmE),
  });
  check(toHex(sealed.enc) === A31.enc && toHex(sealed.ciphertext) === A31.ct, "HPKE (RFC 9180 A.3.1) seal");
  const opened = await handshakeHpke.open({
    recipientKey: recipient,
    enc: sealed.enc,
    ciphertext: sealed.ciphertext,
    info: fromHex(A31.info),
    aad: fromHex(A31.aad),
  });
  check(toHex(opened) === A31.pt, "HPKE (RFC 9180 A.3.1) open");

  check(
    toHex(await hkdfSha256(fromHex(HKDF_A1.ikm), fromHex(HKDF_A1.salt), fromHex(HKDF_A1.info), 42)) === HKDF_A1.okm,
    "HKDF-SHA256 (RFC 5869 A.1)",
  );
  check(
    toHex(await aesGcmEncrypt(fromHex(GCM_91.key), fromHex(GCM_91.iv), fromHex(GCM_91.msg), fromHex(GCM_91.aad))) === GCM_91.sealed,
    "AES-256-GCM encrypt",
  );
  check(
    toHex(await aesGcmDecrypt(fromHex(GCM_91.key), fromHex(GCM_91.iv), fromHex(GCM_91.sealed), fromHex(GCM_91.aad))) === GCM_91.msg,
    "AES-256-GCM decrypt",
  );

  // Randomised primitives: a round trip each, and two fresh encapsulations must differ.
  const device = (await globalThis.crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, [
    "deriveBits",
  ])) as CryptoKeyPair;
  const key = utf8("self-test key of 32 bytes length");
  const a = await shareHpke.seal({ recipientPublicKey: device.publicKey, info: utf8("self-test"), plaintext: key });
  const b = await shareHpke.seal({ recipientPublicKey: device.publicKey, info: utf8("self-test"), plaintext: key });
  check(!bytesEqual(a.enc, b.enc), "HPKE ephemeral keys are not fresh (bad randomness?)");
  check(
    bytesEqual(await shareHpke.open({ recipientKey: device, enc: a.enc, ciphertext: a.ciphertext, info: utf8("self-test") }), key),
    "HPKE AES-256-GCM round trip",
  );
  const signer = (await globalThis.crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const signature = await sign(signer.privateKey, "snip/v1/self-test", key);
  check(await verify(signer.publicKey, "snip/v1/self-test", key, signature), "ECDSA P-256 sign/verify");
  check(!(await verify(signer.publicKey, "snip/v1/self-test", utf8("another message"), signature)), "ECDSA P-256 refuses a wrong message");
}
