package cold

import "testing"

// Tagged object names (replicated nodes) differ per writer and stay
// objects the janitor recognises; an empty tag keeps the single-node names.
func TestTaggedKeys(t *testing.T) {
	if TaggedSegmentKey("a/b", 3, "") != SegmentKey("a/b", 3) || TaggedManifestKey("a/b", 3, "") != ManifestKey("a/b", 3) {
		t.Fatal("an empty tag must give the untagged names")
	}
	seg1, seg2 := TaggedSegmentKey("a/b", 3, "00ff"), TaggedSegmentKey("a/b", 3, "0a0b")
	man := TaggedManifestKey("a/b", 3, "00ff")
	if seg1 == seg2 || seg1 == SegmentKey("a/b", 3) || man == ManifestKey("a/b", 3) {
		t.Fatalf("tagged names collide: %s %s %s", seg1, seg2, man)
	}
	for _, k := range []string{seg1, man} {
		if !IsColdObject(k) {
			t.Errorf("%s is not recognised as a cold object", k)
		}
	}
	if seg1 != "a/b/batch-3-00ff.parquet" || man != "a/b/manifest-00000000000000000003-00ff.json" {
		t.Errorf("names: %s %s", seg1, man)
	}
}
