package api

import "testing"

func TestByteRange(t *testing.T) {
	const size = 1000
	for _, c := range []struct {
		header          string
		offset, length  int64
		partial, satisf bool
	}{
		{"", 0, size, false, true},
		{"bytes=0-", 0, size, true, true},
		{"bytes=0-0", 0, 1, true, true},
		{"bytes=100-199", 100, 100, true, true},
		{"bytes=900-5000", 900, 100, true, true}, // the end past the file is the file's end
		{"bytes=-100", 900, 100, true, true},
		{"bytes=-5000", 0, size, true, true},
		{"bytes=999-", 999, 1, true, true},
		{"bytes=1000-", 0, 0, false, false}, // starts past the end: 416
		{"bytes=-0", 0, 0, false, false},
		{"bytes=0-10,20-30", 0, size, false, true}, // several ranges: the whole file
		{"bytes=20-10", 0, size, false, true},      // malformed: ignored
		{"items=0-10", 0, size, false, true},
		{"bytes=a-b", 0, size, false, true},
		{"bytes=+1-2", 0, size, false, true},
		{"bytes=99999999999999999999-", 0, size, false, true},
	} {
		off, n, partial, ok := byteRange(c.header, size)
		if off != c.offset || n != c.length || partial != c.partial || ok != c.satisf {
			t.Errorf("%q: %d+%d partial=%v ok=%v, want %d+%d %v %v", c.header, off, n, partial, ok, c.offset, c.length, c.partial, c.satisf)
		}
	}
	if _, _, _, ok := byteRange("bytes=0-", 0); ok {
		t.Error("a range of an empty file is satisfiable")
	}
}

// FuzzByteRange: whatever a client sends as Range, the answer is a range inside the file,
// the whole file, or a refusal; never a panic or bytes outside the file.
func FuzzByteRange(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=-5", "bytes=3-9", "bytes=1-2,4-5", "bytes=9223372036854775807-", "bytes=-9223372036854775808"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		off, n, partial, ok := byteRange(header, size)
		if !ok {
			return
		}
		if off < 0 || n < 0 || off+n > size || off > size {
			t.Fatalf("%q of %d: %d+%d", header, size, off, n)
		}
		if !partial && (off != 0 || n != size) {
			t.Fatalf("%q of %d: not partial but %d+%d", header, size, off, n)
		}
	})
}
