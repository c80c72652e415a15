package main

import (
	"slices"
	"testing"
)

// HOTLINE_CALL_CATEGORIES is a comma list; blanks and repeats are dropped, and unset
// leaves the console's defaults.
func TestCallCategoriesConfig(t *testing.T) {
	for _, c := range []struct {
		env  string
		want []string
	}{
		{"", nil},
		{"车险, 健康险,,车险 ", []string{"车险", "健康险"}},
		{"claims", []string{"claims"}},
	} {
		t.Setenv("HOTLINE_CALL_CATEGORIES", c.env)
		cfg, err := loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.CallCategories, c.want) {
			t.Errorf("%q: %q, want %q", c.env, cfg.CallCategories, c.want)
		}
	}
}
