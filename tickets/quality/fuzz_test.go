package quality

import (
	"encoding/json"
	"testing"
)

// FuzzRubric feeds a rubric's criteria and a review's marks as an admin's and a reviewer's
// JSON would bring them: checking never panics, and the marks a checked rubric takes always
// score from 0 to 100.
func FuzzRubric(f *testing.F) {
	f.Add(`[{"name_zh":"礼貌","name_en":"Courtesy","weight":40,"max":5},{"name_zh":"准确","name_en":"Accuracy","weight":60,"max":10}]`, `{"k1":5,"k2":10}`)
	f.Add(`[{"name_zh":"整体","name_en":"Overall","weight":100,"max":1}]`, `{"k1":0}`)
	f.Add(`[{"key":"k9","name_zh":"a","name_en":"b","weight":50,"max":100},{"key":"k9","name_zh":"c","name_en":"d","weight":50,"max":3}]`, `{"k1":100,"k2":-1}`)
	f.Add(`[]`, `{}`)
	f.Fuzz(func(t *testing.T, crits, marks string) {
		var in RubricInput
		var m map[string]int
		if json.Unmarshal([]byte(crits), &in.Criteria) != nil || json.Unmarshal([]byte(marks), &m) != nil {
			return
		}
		in.Name = "fuzz"
		clean, err := cleanRubric(in)
		if err != nil {
			return
		}
		cs := keyed(clean.Criteria, nil)
		seen := map[string]bool{}
		for _, c := range cs {
			if c.Key == "" || seen[c.Key] {
				t.Fatalf("keys not unique: %+v", cs)
			}
			seen[c.Key] = true
		}
		got, err := sheet(cs, m)
		if err != nil {
			return
		}
		if s := Score(got); s < 0 || s > 100 {
			t.Fatalf("score %v out of 0–100 for %+v", s, got)
		}
	})
}
