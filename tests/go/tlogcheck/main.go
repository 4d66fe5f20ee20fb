// tlogcheck verifies a tsad log with code tsad did not write: Go's golang.org/x/mod/sumdb/note
// (the checkpoint's signed note) and golang.org/x/mod/sumdb/tlog (tiles against the root, entries
// against the level-0 tiles, inclusion and consistency proofs). C2SP tlog-tiles paths are Go's
// sumdb paths without the height ("tile/8/0/x001/234" -> "tile/0/x001/234", "tile/8/data/..." ->
// "tile/entries/...").
//
// Usage: tlogcheck -url http://127.0.0.1:PORT/log -vkey VKEY [-state FILE] [-flip tile|entry|checkpoint] [-witness-vkey VKEY]
// -witness-vkey: the checkpoint must carry a valid c2sp.org/tlog-cosignature (cosignature/v1,
// Ed25519) by that witness; verified with crypto/ed25519 from the spec (sumdb/note knows only
// the log's signature type).
// -state keeps the last verified checkpoint: the next run proves consistency from it.
// -flip changes one byte of the first response of that kind (a tamper test): the run must fail.
// Exit 0: verified; 1: verification failed; 2: usage or transport error.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var (
	baseURL = flag.String("url", "", "log prefix, e.g. http://127.0.0.1:8318/log")
	vkey    = flag.String("vkey", "", "signed-note verifier key of the log")
	state   = flag.String("state", "", "file with the last verified checkpoint (consistency)")
	flip    = flag.String("flip", "", "tamper test: tile, entry or checkpoint")
	witness = flag.String("witness-vkey", "", "a witness whose cosignature the checkpoint must carry")
	flipped = false
)

type failure struct{ error }

func fetch(path, kind string) ([]byte, error) {
	resp, err := http.Get(strings.TrimSuffix(*baseURL, "/") + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	if *flip == kind && !flipped && len(body) > 0 {
		body[len(body)/2] ^= 0x01
		flipped = true
	}
	return body, nil
}

// C2SP tlog-tiles path of a Go sumdb tile.
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	if t.L == -1 {
		return strings.Replace(p, "tile/8/data/", "tile/entries/", 1)
	}
	return strings.Replace(p, "tile/8/", "tile/", 1)
}

type tileReader struct{}

func (tileReader) Height() int { return 8 }
func (tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := fetch(c2spPath(t), "tile")
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

func parseCheckpoint(msg []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, failure{fmt.Errorf("checkpoint signature: %v", err)}
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		return checkpoint{}, failure{errors.New("checkpoint: too few lines")}
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, failure{fmt.Errorf("checkpoint: bad size %q", lines[1])}
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return checkpoint{}, failure{fmt.Errorf("checkpoint: bad hash %q", lines[2])}
	}
	var h tlog.Hash
	copy(h[:], raw)
	return checkpoint{lines[0], tlog.Tree{N: size, Hash: h}}, nil
}

// checkCosignature finds the witness's signature line among the note's unverified ones (sumdb/note
// leaves keys it does not know there) and verifies it per c2sp.org/tlog-cosignature: key ID
// SHA-256(name || "\n" || 0x04 || key)[:4], signature over "cosignature/v1\ntime T\n" || body.
func checkCosignature(msg []byte, verifier note.Verifier, wvkey string) error {
	parts := strings.SplitN(wvkey, "+", 3)
	if len(parts) != 3 {
		return fmt.Errorf("-witness-vkey: not name+id+key")
	}
	typed, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(typed) != 1+ed25519.PublicKeySize || typed[0] != 0x04 {
		return fmt.Errorf("-witness-vkey: not a cosignature/v1 Ed25519 key")
	}
	name, pub := parts[0], ed25519.PublicKey(typed[1:])
	sum := sha256.Sum256(append([]byte(name+"\n\x04"), pub...))
	if hex.EncodeToString(sum[:4]) != parts[1] {
		return fmt.Errorf("-witness-vkey: key ID does not match")
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return failure{err}
	}
	for _, sig := range n.UnverifiedSigs {
		blob, err := base64.StdEncoding.DecodeString(sig.Base64)
		if sig.Name != name || err != nil || len(blob) < 4 || !bytes.Equal(blob[:4], sum[:4]) {
			continue
		}
		if len(blob) != 4+8+ed25519.SignatureSize {
			return failure{fmt.Errorf("cosignature by %s: wrong length", name)}
		}
		ts := binary.BigEndian.Uint64(blob[4:12])
		signed := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, n.Text)
		if !ed25519.Verify(pub, []byte(signed), blob[12:]) {
			return failure{fmt.Errorf("cosignature by %s does not verify", name)}
		}
		fmt.Printf("cosigned by %s at %d\n", name, ts)
		return nil
	}
	return failure{fmt.Errorf("no cosignature by %s", name)}
}

func checkEntries(tree tlog.Tree, hashes tlog.HashReader) error {
	for first := int64(0); first < tree.N; first += 256 {
		w := tree.N - first
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: first / 256, W: int(w)}
		bundle, err := fetch(c2spPath(t), "entry")
		if err != nil {
			return err
		}
		for i := int64(0); i < w; i++ {
			if len(bundle) < 2 {
				return failure{fmt.Errorf("entry %d: bundle truncated", first+i)}
			}
			n := int(bundle[0])<<8 | int(bundle[1])
			if len(bundle) < 2+n {
				return failure{fmt.Errorf("entry %d: bundle truncated", first+i)}
			}
			stored, err := hashes.ReadHashes([]int64{tlog.StoredHashIndex(0, first+i)})
			if err != nil {
				return failure{err}
			}
			if tlog.RecordHash(bundle[2:2+n]) != stored[0] {
				return failure{fmt.Errorf("entry %d does not match its level-0 tile hash", first+i)}
			}
			bundle = bundle[2+n:]
		}
		if len(bundle) != 0 {
			return failure{fmt.Errorf("entry bundle %d has trailing bytes", t.N)}
		}
	}
	return nil
}

func run() error {
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		return fmt.Errorf("-vkey: %v", err)
	}
	msg, err := fetch("checkpoint", "checkpoint")
	if err != nil {
		return err
	}
	cp, err := parseCheckpoint(msg, verifier)
	if err != nil {
		return err
	}
	if cp.origin != verifier.Name() {
		return failure{fmt.Errorf("origin %q is not the key name %q", cp.origin, verifier.Name())}
	}
	if *witness != "" {
		if err := checkCosignature(msg, verifier, *witness); err != nil {
			return err
		}
	}
	hashes := tlog.TileHashReader(cp.tree, tileReader{})
	root, err := tlog.TreeHash(cp.tree.N, hashes)
	if err != nil {
		return failure{fmt.Errorf("tiles: %v", err)}
	}
	if root != cp.tree.Hash {
		return failure{errors.New("tiles do not give the checkpoint root")}
	}
	if err := checkEntries(cp.tree, hashes); err != nil {
		return err
	}
	for _, i := range []int64{0, cp.tree.N / 2, cp.tree.N - 1} {
		if cp.tree.N == 0 {
			break
		}
		proof, err := tlog.ProveRecord(cp.tree.N, i, hashes)
		if err != nil {
			return failure{err}
		}
		leaf, err := hashes.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		if err != nil {
			return failure{err}
		}
		if err := tlog.CheckRecord(proof, cp.tree.N, cp.tree.Hash, i, leaf[0]); err != nil {
			return failure{fmt.Errorf("inclusion of %d: %v", i, err)}
		}
	}
	if *state != "" {
		if old, err := os.ReadFile(*state); err == nil {
			prev, err := parseCheckpoint(old, verifier)
			if err != nil {
				return err
			}
			if prev.tree.N > cp.tree.N {
				return failure{fmt.Errorf("the log shrank from %d to %d", prev.tree.N, cp.tree.N)}
			}
			proof, err := tlog.ProveTree(cp.tree.N, prev.tree.N, hashes)
			if err != nil {
				return failure{err}
			}
			if err := tlog.CheckTree(proof, cp.tree.N, cp.tree.Hash, prev.tree.N, prev.tree.Hash); err != nil {
				return failure{fmt.Errorf("consistency %d -> %d: %v", prev.tree.N, cp.tree.N, err)}
			}
			fmt.Printf("consistent with the checkpoint of size %d\n", prev.tree.N)
		}
		if err := os.WriteFile(*state, msg, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("OK: %s size %d: signature, tiles, %d entries, inclusion proofs\n", cp.origin, cp.tree.N, cp.tree.N)
	return nil
}

func main() {
	flag.Parse()
	if *baseURL == "" || *vkey == "" {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck -url URL -vkey VKEY [-state FILE] [-flip tile|entry|checkpoint]")
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tlogcheck:", err)
		var f failure
		if errors.As(err, &f) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}
