package files_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files/filestest"
)

// BenchmarkPut1MB puts distinct 1 MB files (a picture, a short recording) into each store:
// go test ./tickets/files/ -run '^$' -bench Put1MB -benchtime 200x
func BenchmarkPut1MB(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(b *testing.B) tickets.FileStore
	}{
		{"local", func(b *testing.B) tickets.FileStore { return filestest.Local(b) }},
		{"s3", func(b *testing.B) tickets.FileStore { return filestest.NewS3(b, "bench").Open(b, "bench", "p") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.open(b)
			data, _ := content(40, 1<<20)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				binary.LittleEndian.PutUint64(data, uint64(i)) // a new file each time
				if err := s.Put(context.Background(), keyOf(data), bytes.NewReader(data), int64(len(data)), "image/jpeg"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenRange reads 64 KB ranges of a 1 MB file, as a player seeking.
func BenchmarkOpenRange(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(b *testing.B) tickets.FileStore
	}{
		{"local", func(b *testing.B) tickets.FileStore { return filestest.Local(b) }},
		{"s3", func(b *testing.B) tickets.FileStore { return filestest.NewS3(b, "bench").Open(b, "bench", "p") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.open(b)
			data, key := content(41, 1<<20)
			if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), ""); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(buf)))
			for i := 0; b.Loop(); i++ {
				rc, err := s.Open(context.Background(), key, int64(i%16)*(64<<10), 64<<10)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(rc, buf); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		})
	}
}
