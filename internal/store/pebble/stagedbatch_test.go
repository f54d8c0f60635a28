package pebble

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// A batch's writes to one key land as staged: the last set or delete wins
// and merges add in their order, against a map as the model. Random
// batches of sets, deletes and merges (Pebble's concatenating merger) over
// a few keys, so that most batches write some key more than once.
func TestStagedBatchKeepsStagingOrder(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Merger: pebble.DefaultMerger})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string][]byte{}
	for round := range 300 {
		var b stagedBatch
		for i := range 1 + rng.IntN(12) {
			k := fmt.Sprintf("k%d", rng.IntN(5))
			v := []byte(fmt.Sprintf("%d.%d;", round, i))
			switch rng.IntN(3) {
			case 0:
				b.set([]byte(k), v)
				model[k] = v
			case 1:
				b.del([]byte(k))
				delete(model, k)
			default:
				b.merge([]byte(k), v)
				model[k] = append(append([]byte(nil), model[k]...), v...)
			}
		}
		if err := b.commit(db); err != nil {
			t.Fatal(err)
		}
		for k := range 5 {
			key := fmt.Sprintf("k%d", k)
			got, closer, err := db.Get([]byte(key))
			want, ok := model[key]
			switch {
			case err == pebble.ErrNotFound:
				if ok {
					t.Fatalf("round %d: %s missing, want %q", round, key, want)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if !ok || string(got) != string(want) {
					t.Fatalf("round %d: %s = %q, want %q (present %v)", round, key, got, want, ok)
				}
				closer.Close()
			}
		}
	}
}
