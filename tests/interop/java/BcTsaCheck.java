// Interop X05–X07 (conformance §6.8): Bouncy Castle's TSP client checks against a running tsad.
// Compiled and run by tests/interop/bouncycastle.sh:
//   java -cp bcprov.jar:bcpkix.jar:bcutil.jar:CLASSES BcTsaCheck URL TSA_CERT.pem CA_CERT.pem LABEL
// Prints one "PASS <id> <what>" or "FAIL <id> <what>: <why>" line per check; exits 1 on any failure.
//
// What BC checks (and many Java signers rely on: PDFBox, iText, DSS):
//   TimeStampResponse.validate(request): status ↔ token, nonce, imprint digest and OID, reqPolicy,
//     signingCertificate (v1) or signingCertificateV2 present;
//   TimeStampToken.validate(verifier): ESS certHash, EKU critical and only timeStamping, certificate
//     valid at genTime, the CMS signature.
// On top of that: HTTP 200 and the exact Content-Type application/timestamp-reply, Content-Length,
// certReq FALSE → no certificates (.NET's rule), a PKIX path to the CA at genTime, accuracy and TSA
// name present, a SHA-1 request rejected with badAlg, an unknown reqPolicy rejected with
// unacceptedPolicy, and a negative control (a reply checked against another request must fail).

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.HttpURLConnection;
import java.net.URL;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TSPException;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.TimeStampTokenInfo;

public final class BcTsaCheck {
  private static final String REPLY_TYPE = "application/timestamp-reply";
  private static final SecureRandom RANDOM = new SecureRandom();

  private static int passed = 0;
  private static int failed = 0;

  private static String url;
  private static X509Certificate tsaCert;
  private static X509Certificate caCert;
  private static String label;

  private static void pass(String id, String what) {
    passed++;
    System.out.println("PASS " + id + "-" + label + " " + what);
  }

  private static void fail(String id, String what, String why) {
    failed++;
    System.out.println("FAIL " + id + "-" + label + " " + what + ": " + why);
  }

  private static boolean expect(String id, String what, boolean ok, String why) {
    if (ok) pass(id, what); else fail(id, what, why);
    return ok;
  }

  /** One HTTP exchange. */
  private static final class Reply {
    int code;
    String contentType;
    long contentLength;
    byte[] body;
  }

  private static Reply post(byte[] der) throws Exception {
    HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
    c.setConnectTimeout(10000);
    c.setReadTimeout(20000);
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Content-Type", "application/timestamp-query");
    c.setRequestProperty("Accept", REPLY_TYPE);
    // user:password in the URL (as signing tools take a TSA URL): HTTP Basic, which
    // HttpURLConnection does not send by itself.
    String userInfo = new URL(url).getUserInfo();
    if (userInfo != null) {
      c.setRequestProperty("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
          java.net.URLDecoder.decode(userInfo, java.nio.charset.StandardCharsets.UTF_8).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
    c.setFixedLengthStreamingMode(der.length);
    try (OutputStream out = c.getOutputStream()) {
      out.write(der);
    }
    Reply r = new Reply();
    r.code = c.getResponseCode();
    r.contentType = c.getContentType();
    r.contentLength = c.getContentLengthLong();
    InputStream in = r.code >= 400 ? c.getErrorStream() : c.getInputStream();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    if (in != null) {
      try (InputStream s = in) {
        s.transferTo(buf);
      }
    }
    r.body = buf.toByteArray();
    c.disconnect();
    return r;
  }

  private static boolean checkHttp(String id, String what, Reply r) {
    return expect(id, what + ": HTTP 200, Content-Type exactly " + REPLY_TYPE + ", Content-Length matches",
        r.code == 200 && REPLY_TYPE.equals(r.contentType) && r.contentLength == r.body.length,
        "HTTP " + r.code + ", Content-Type '" + r.contentType + "', Content-Length " + r.contentLength
            + " for " + r.body.length + " bytes");
  }

  private static byte[] digest(String jcaName, String text) throws Exception {
    return MessageDigest.getInstance(jcaName).digest(text.getBytes("UTF-8"));
  }

  private static TimeStampRequest request(ASN1ObjectIdentifier alg, byte[] imprint, boolean certReq,
                                          ASN1ObjectIdentifier policy) {
    TimeStampRequestGenerator gen = new TimeStampRequestGenerator();
    gen.setCertReq(certReq);
    if (policy != null) gen.setReqPolicy(policy);
    return gen.generate(alg, imprint, new BigInteger(64, RANDOM));
  }

  private static X509Certificate readPem(String path) throws Exception {
    try (InputStream in = new FileInputStream(path)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  /** X05/X06/X07: a granted exchange, with every check BC and .NET make. Returns the token or null. */
  private static TimeStampToken granted(String id, String alg, ASN1ObjectIdentifier oid, String jcaName,
                                        boolean certReq, ASN1ObjectIdentifier policy) throws Exception {
    String what = alg + " certReq " + certReq + (policy != null ? " reqPolicy " + policy : "");
    byte[] imprint = digest(jcaName, "bouncy castle interop " + id + " " + System.nanoTime());
    TimeStampRequest req = request(oid, imprint, certReq, policy);
    Reply r;
    try {
      r = post(req.getEncoded());
    } catch (Exception e) {
      fail(id, what + ": POST", e.toString());
      return null;
    }
    if (!checkHttp(id, what, r)) return null;
    TimeStampResponse resp;
    try {
      resp = new TimeStampResponse(r.body);
    } catch (Exception e) {
      fail(id, what + ": parse TimeStampResponse", e.toString());
      return null;
    }
    if (!expect(id, what + ": status granted (0)", resp.getStatus() == PKIStatus.GRANTED,
        "status " + resp.getStatus() + " '" + resp.getStatusString() + "' failInfo " + resp.getFailInfo())) {
      return null;
    }
    try {
      resp.validate(req);
      pass(id, what + ": TimeStampResponse.validate(request)");
    } catch (TSPException e) {
      fail(id, what + ": TimeStampResponse.validate(request)", e.toString());
      return null;
    }
    TimeStampToken token = resp.getTimeStampToken();
    try {
      token.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(tsaCert));
      pass(id, what + ": TimeStampToken.validate(JcaSimpleSignerInfoVerifier(tsaCert))");
    } catch (Exception e) {
      fail(id, what + ": TimeStampToken.validate", e.toString());
      return null;
    }
    TimeStampTokenInfo info = token.getTimeStampInfo();
    expect(id, what + ": imprint OID and digest echoed",
        info.getMessageImprintAlgOID().equals(oid) && Arrays.equals(info.getMessageImprintDigest(), imprint),
        "OID " + info.getMessageImprintAlgOID());
    expect(id, what + ": nonce echoed", req.getNonce().equals(info.getNonce()),
        "sent " + req.getNonce() + ", got " + info.getNonce());
    if (policy != null) {
      expect(id, what + ": policy = reqPolicy", policy.equals(info.getPolicy()), "got " + info.getPolicy());
    }
    expect(id, what + ": accuracy present", info.getAccuracy() != null, "no accuracy");
    GeneralName tsa = info.getTsa();
    X500Name subject = X500Name.getInstance(tsaCert.getSubjectX500Principal().getEncoded());
    expect(id, what + ": TSA name = the TSA certificate subject",
        tsa != null && tsa.getTagNo() == GeneralName.directoryName && X500Name.getInstance(tsa.getName()).equals(subject),
        "tsa " + tsa);
    expect(id, what + ": SignerInfo SID matches the TSA certificate",
        token.getSID().match(new X509CertificateHolder(tsaCert.getEncoded())), "SID " + token.getSID().getSerialNumber());

    Collection<X509CertificateHolder> certs = token.getCertificates().getMatches(null);
    if (certReq) {
      boolean hasTsa = false;
      for (X509CertificateHolder h : certs) {
        if (Arrays.equals(h.getEncoded(), tsaCert.getEncoded())) hasTsa = true;
      }
      expect(id, what + ": certificates include the TSA certificate (certReq TRUE)", hasTsa,
          certs.size() + " certificates, none is the TSA certificate");
    } else {
      expect(id, what + ": no certificates in the token (certReq FALSE)", certs.isEmpty(),
          certs.size() + " certificates present");
    }

    // PKIX path TSA certificate → CA, at genTime, no revocation (the test PKI has none).
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      PKIXParameters params = new PKIXParameters(Collections.singleton(new TrustAnchor(caCert, null)));
      params.setRevocationEnabled(false);
      params.setDate(info.getGenTime());
      CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(List.of(tsaCert)), params);
      pass(id, what + ": PKIX path TSA certificate -> CA valid at genTime");
    } catch (Exception e) {
      fail(id, what + ": PKIX path to the CA", e.toString());
    }
    return token;
  }

  /** A rejection: status 2, the expected failInfo, no token, validate(request) accepts it. */
  private static void rejected(String id, String what, TimeStampRequest req, int failBit, String failName) throws Exception {
    Reply r = post(req.getEncoded());
    if (!checkHttp(id, what, r)) return;
    TimeStampResponse resp = new TimeStampResponse(r.body);
    PKIFailureInfo fi = resp.getFailInfo();
    expect(id, what + ": status rejection (2), failInfo " + failName + ", no token",
        resp.getStatus() == PKIStatus.REJECTION && fi != null && fi.intValue() == failBit && resp.getTimeStampToken() == null,
        "status " + resp.getStatus() + " failInfo " + (fi == null ? "none" : Integer.toHexString(fi.intValue()))
            + " token " + (resp.getTimeStampToken() != null));
    try {
      resp.validate(req);
      pass(id, what + ": TimeStampResponse.validate(request) accepts the rejection");
    } catch (TSPException e) {
      fail(id, what + ": TimeStampResponse.validate(request)", e.toString());
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: BcTsaCheck URL TSA_CERT.pem CA_CERT.pem LABEL");
      System.exit(2);
    }
    url = args[0];
    tsaCert = readPem(args[1]);
    caCert = readPem(args[2]);
    label = args[3];
    Security.addProvider(new BouncyCastleProvider());

    try {
      // X05: SHA-256, certReq TRUE and FALSE; X06: SHA-512 likewise; X07: certReq FALSE → no certificates.
      TimeStampToken first = granted("X05", "SHA-256", TSPAlgorithms.SHA256, "SHA-256", true, null);
      granted("X06", "SHA-512", TSPAlgorithms.SHA512, "SHA-512", true, null);
      granted("X07", "SHA-256", TSPAlgorithms.SHA256, "SHA-256", false, null);
      granted("X07", "SHA-512", TSPAlgorithms.SHA512, "SHA-512", false, null);

      // reqPolicy = the TSA's default policy (taken from the first token) → granted, policy echoed.
      if (first != null) {
        granted("X05-policy", "SHA-256", TSPAlgorithms.SHA256, "SHA-256", true, first.getTimeStampInfo().getPolicy());
      }

      // Rejections.
      rejected("X05-sha1", "SHA-1 imprint",
          request(TSPAlgorithms.SHA1, digest("SHA-1", "sha1"), true, null), PKIFailureInfo.badAlg, "badAlg");
      rejected("X05-policy", "unknown reqPolicy 1.2.3.4.5",
          request(TSPAlgorithms.SHA256, digest("SHA-256", "policy"), true, new ASN1ObjectIdentifier("1.2.3.4.5")),
          PKIFailureInfo.unacceptedPolicy, "unacceptedPolicy");

      // Negative control: a genuine reply must not validate against a different request (other nonce).
      byte[] imprint = digest("SHA-256", "negative control");
      TimeStampRequest sent = request(TSPAlgorithms.SHA256, imprint, true, null);
      TimeStampRequest other = request(TSPAlgorithms.SHA256, imprint, true, null);
      Reply r = post(sent.getEncoded());
      if (checkHttp("X05-neg", "negative control: SHA-256 certReq true", r)) {
        try {
          new TimeStampResponse(r.body).validate(other);
          fail("X05-neg", "negative control: validate() against another request", "no exception");
        } catch (TSPException e) {
          pass("X05-neg", "negative control: validate() against another request throws (" + e.getMessage() + ")");
        }
      }
    } catch (Exception e) {
      e.printStackTrace(System.out);
      fail("X05-07", "unexpected exception", e.toString());
    }

    System.out.println("BcTsaCheck " + label + ": " + passed + " passed, " + failed + " failed");
    System.exit(failed == 0 && passed > 0 ? 0 : 1);
  }
}
