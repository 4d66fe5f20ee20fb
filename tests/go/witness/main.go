// witness is a transparency-log witness written for tsad's tests from the C2SP specifications
// alone (c2sp.org/tlog-witness, c2sp.org/tlog-cosignature), with Go's golang.org/x/mod/sumdb/note
// (the log's checkpoint signature) and sumdb/tlog (the consistency proof). No third-party witness
// is installable here; this one is not tsad's code, so it checks tsad against the protocol.
//
// Usage: witness -log-vkey VKEY [-name NAME] [-seed HEX] [-mode MODE] [-state FILE]
// It listens on 127.0.0.1 port 0 and prints "port N" and "vkey VKEY" (its cosignature/v1
// verifier key) on stdout, then one line per request on stderr.
// Modes: ok; bad-signature (every cosignature has a flipped byte); lose-first-reply (the first
// successful add-checkpoint is persisted but answered 503, as if the reply were lost: the log's
// next request then carries a stale old size and must take the 409 path).
package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var (
	logVkey = flag.String("log-vkey", "", "the log's signed-note verifier key (its origin is the key name)")
	name    = flag.String("name", "witness.test/w1", "the witness's key name")
	seedHex = flag.String("seed", "", "hex Ed25519 seed (32 bytes); default random")
	mode    = flag.String("mode", "ok", "ok, bad-signature or lose-first-reply")
	state   = flag.String("state", "", "file that persists the latest cosigned size and root")
)

type witness struct {
	mu       sync.Mutex // checking the old size and persisting the new state are atomic (tlog-witness)
	verifier note.Verifier
	priv     ed25519.PrivateKey
	keyID    [4]byte
	size     int64
	root     tlog.Hash
	lost     bool
}

func keyID(name string, pub ed25519.PublicKey) [4]byte {
	sum := sha256.Sum256(append([]byte(name+"\n\x04"), pub...))
	var id [4]byte
	copy(id[:], sum[:4])
	return id
}

type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

// parseRequest splits "old N\n" + proof lines + "\n" + checkpoint (tlog-witness §add-checkpoint).
func parseRequest(body []byte) (int64, tlog.TreeProof, []byte, error) {
	r := bufio.NewReader(bytes.NewReader(body))
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "old ") {
		return 0, nil, nil, httpError{400, "no old size line"}
	}
	digits := strings.TrimSuffix(strings.TrimPrefix(line, "old "), "\n")
	old, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || old < 0 || strconv.FormatInt(old, 10) != digits {
		return 0, nil, nil, httpError{400, "bad old size"}
	}
	var proof tlog.TreeProof
	for {
		line, err = r.ReadString('\n')
		if err != nil {
			return 0, nil, nil, httpError{400, "no blank line before the checkpoint"}
		}
		if line == "\n" {
			break
		}
		h, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(line, "\n"))
		if err != nil || len(h) != tlog.HashSize || len(proof) == 63 {
			return 0, nil, nil, httpError{400, "bad consistency proof line"}
		}
		var hash tlog.Hash
		copy(hash[:], h)
		proof = append(proof, hash)
	}
	rest, _ := io.ReadAll(r)
	return old, proof, rest, nil
}

func parseCheckpoint(text string) (string, int64, tlog.Hash, error) {
	lines := strings.Split(text, "\n")
	var h tlog.Hash
	if len(lines) < 4 {
		return "", 0, h, httpError{400, "checkpoint too short"}
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	raw, err2 := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || size < 0 || err2 != nil || len(raw) != tlog.HashSize {
		return "", 0, h, httpError{400, "bad checkpoint"}
	}
	copy(h[:], raw)
	return lines[0], size, h, nil
}

func (w *witness) cosign(text string) string {
	ts := uint64(time.Now().Unix())
	sig := ed25519.Sign(w.priv, []byte(fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)))
	if *mode == "bad-signature" {
		sig[10] ^= 0x01
	}
	blob := make([]byte, 0, 4+8+len(sig))
	blob = append(blob, w.keyID[:]...)
	blob = binary.BigEndian.AppendUint64(blob, ts)
	blob = append(blob, sig...)
	return "\u2014 " + *name + " " + base64.StdEncoding.EncodeToString(blob) + "\n"
}

func (w *witness) persist() error {
	if *state == "" {
		return nil
	}
	return os.WriteFile(*state, []byte(fmt.Sprintf("%d %s\n", w.size, base64.StdEncoding.EncodeToString(w.root[:]))), 0o644)
}

func (w *witness) load() {
	if *state == "" {
		return
	}
	b, err := os.ReadFile(*state)
	if err != nil {
		return
	}
	var size int64
	var root string
	if _, err := fmt.Sscanf(string(b), "%d %s", &size, &root); err == nil {
		if raw, err := base64.StdEncoding.DecodeString(root); err == nil && len(raw) == tlog.HashSize {
			w.size = size
			copy(w.root[:], raw)
		}
	}
}

// addCheckpoint returns the cosignature lines or an httpError.
func (w *witness) addCheckpoint(body []byte) (string, error) {
	old, proof, msg, err := parseRequest(body)
	if err != nil {
		return "", err
	}
	origin, size, root, err := parseCheckpoint(string(msg))
	if err != nil {
		return "", err
	}
	if origin != w.verifier.Name() {
		return "", httpError{404, "unknown origin"}
	}
	n, err := note.Open(msg, note.VerifierList(w.verifier))
	if err != nil {
		return "", httpError{403, "checkpoint signature: " + err.Error()}
	}
	if old > size {
		return "", httpError{400, "old size beyond the checkpoint"}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if old != w.size {
		return "", httpError{409, strconv.FormatInt(w.size, 10) + "\n"}
	}
	if old == size {
		if root != w.root {
			return "", httpError{409, "same size, different root\n"}
		}
	} else if old == 0 {
		if len(proof) != 0 {
			return "", httpError{400, "a proof from size 0"}
		}
	} else if err := tlog.CheckTree(proof, size, root, old, w.root); err != nil {
		return "", httpError{422, "consistency: " + err.Error()}
	}
	w.size, w.root = size, root
	if err := w.persist(); err != nil {
		return "", httpError{500, err.Error()}
	}
	if *mode == "lose-first-reply" && !w.lost {
		w.lost = true
		return "", httpError{503, "reply lost (test mode)"}
	}
	return w.cosign(n.Text), nil
}

func (w *witness) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/add-checkpoint" || req.Method != http.MethodPost {
		http.NotFound(rw, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(rw, "read", 400)
		return
	}
	lines, err := w.addCheckpoint(body)
	var he httpError
	switch {
	case err == nil:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(rw, lines)
		fmt.Fprintf(os.Stderr, "add-checkpoint 200\n")
	case errors.As(err, &he) && he.status == 409 && !strings.HasPrefix(he.msg, "same size"):
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(409)
		io.WriteString(rw, he.msg)
		fmt.Fprintf(os.Stderr, "add-checkpoint 409 size %s", he.msg)
	case errors.As(err, &he):
		http.Error(rw, he.msg, he.status)
		fmt.Fprintf(os.Stderr, "add-checkpoint %d %s\n", he.status, he.msg)
	default:
		http.Error(rw, err.Error(), 500)
	}
}

func main() {
	flag.Parse()
	verifier, err := note.NewVerifier(*logVkey)
	if err != nil {
		fmt.Fprintln(os.Stderr, "witness: -log-vkey:", err)
		os.Exit(2)
	}
	seed := make([]byte, ed25519.SeedSize)
	if *seedHex != "" {
		if seed, err = hex.DecodeString(*seedHex); err != nil || len(seed) != ed25519.SeedSize {
			fmt.Fprintln(os.Stderr, "witness: -seed: 32 hex bytes")
			os.Exit(2)
		}
	} else if _, err := rand.Read(seed); err != nil {
		os.Exit(2)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	w := &witness{verifier: verifier, priv: priv, keyID: keyID(*name, pub)}
	w.load()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "witness:", err)
		os.Exit(2)
	}
	vkey := *name + "+" + hex.EncodeToString(w.keyID[:]) + "+" + base64.StdEncoding.EncodeToString(append([]byte{0x04}, pub...))
	fmt.Printf("port %d\nvkey %s\n", ln.Addr().(*net.TCPAddr).Port, vkey)
	os.Stdout.Sync()
	fmt.Fprintln(os.Stderr, http.Serve(ln, w))
	os.Exit(1)
}
