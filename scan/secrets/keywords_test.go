package secrets

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveHits finds the keywords the slow, obvious way.
func naiveHits(text string, words []string) []keywordHit {
	lower := strings.ToLower(text)
	var hits []keywordHit
	for pos := range lower {
		for kw, w := range words {
			if strings.HasPrefix(lower[pos:], w) {
				hits = append(hits, keywordHit{pos: pos, kw: kw})
			}
		}
	}
	return hits
}

func sortHits(h []keywordHit) []keywordHit {
	slices.SortFunc(h, func(a, b keywordHit) int {
		if a.pos != b.pos {
			return a.pos - b.pos
		}
		return a.kw - b.kw
	})
	return h
}

func TestKeywordIndexFindsWhatANaiveSearchFinds(t *testing.T) {
	words := []string{"s.", "ey", "sk", "key", "api", "api-", "token", "-----begin", "xoxb", "akia", "a3t", "q~"}
	k := newKeywordIndex(words)
	fixed := []string{"", "s", "s.", "S.", "eY", "KEY", "kEyS.", "apiapi-API-", "xx-----BEGIN RSA", "token", "tokentoken", "aKiA", "q~Q~", "sk\nsk", "ke", "to"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := "sSkKeEyY.aApPiI-tToOnNq~xXbB3 \n"
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		fixed = append(fixed, string(b))
	}
	for _, text := range fixed {
		got := sortHits(k.find([]byte(text), nil))
		want := sortHits(naiveHits(text, words))
		if !slices.Equal(got, want) {
			t.Fatalf("find(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestKeywordsOfFoldsAsGitleaksDoes(t *testing.T) {
	k := newKeywordIndex([]string{"key", "sk", "api"})
	text := []byte("the \u212aEY and AP\u0130")
	if !hasFoldingRunes(text) {
		t.Fatal("the Kelvin sign and the dotted I are not noticed")
	}
	if got := k.keywordsOf(text); !slices.Equal(got, []int{0, 2}) {
		t.Errorf("keywordsOf = %v, want key and api", got)
	}
	if hasFoldingRunes([]byte("plain ASCII and caf\u00e9")) {
		t.Error("a text without folding runes is said to have them")
	}
	if !hasFoldingRunes([]byte("\u017fk_live")) {
		t.Error("the long s is not noticed")
	}
}
