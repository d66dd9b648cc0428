package source

import (
	"net/http"
	"strings"
	"testing"
)

type okTransport struct{}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK}, nil
}

func TestPlainHTTPGuard(t *testing.T) {
	tests := map[string]struct {
		url     string
		allow   bool
		refused bool
	}{
		"plain HTTP to a private address":             {"http://10.0.0.1:5000/v2/", false, true},
		"plain HTTP to a .local name":                 {"http://registry.local:5000/v2/", false, true},
		"plain HTTP to a public name":                 {"http://registry.example.com/v2/", false, true},
		"plain HTTP to 127.0.0.1":                     {"http://127.0.0.1:5000/v2/", false, false},
		"plain HTTP to 127.8.9.1":                     {"http://127.8.9.1:5000/v2/", false, false},
		"plain HTTP to localhost":                     {"http://localhost:5000/v2/", false, false},
		"plain HTTP to ::1":                           {"http://[::1]:5000/v2/", false, false},
		"HTTPS anywhere":                              {"https://10.0.0.1:5000/v2/", false, false},
		"plain HTTP to a private address, --insecure": {"http://10.0.0.1:5000/v2/", true, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = plainHTTPGuard{base: okTransport{}, allow: tc.allow}.RoundTrip(req)
			if refused := err != nil && strings.Contains(err.Error(), "refusing plain HTTP"); refused != tc.refused {
				t.Errorf("refused = %v (%v), want %v", refused, err, tc.refused)
			}
		})
	}
}
