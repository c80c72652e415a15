package files

// Parsed is what parse made of a FILES_URL, for the tests.
type Parsed struct {
	Local                                 bool
	Dir, Bucket, Prefix, Endpoint, Region string
	PathStyle                             bool
}

func Parse(raw string) (Parsed, error) {
	loc, err := parse(raw)
	if err != nil {
		return Parsed{}, err
	}
	return Parsed{loc.kind == kindLocal, loc.dir, loc.s3.bucket, loc.s3.prefix, loc.s3.endpoint, loc.s3.region, loc.s3.pathStyle}, nil
}
