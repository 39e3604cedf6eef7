package ocf

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestExitCode(t *testing.T) {
	for err, want := range map[error]int{
		nil:                                   RCSuccess,
		fmt.Errorf("x: %w", ErrNotInstalled):  RCErrInstalled,
		fmt.Errorf("x: %w", ErrNotConfigured): RCErrConfigured,
		fmt.Errorf("x: %w", ErrNotRunning):    RCNotRunning,
		fmt.Errorf("x: %w", ErrDuplicate):     RCErrGeneric,
		errors.New("boom"):                    RCErrGeneric,
		Invalid("ip", "1.2.3", "bad"):         RCErrArgs,
		fmt.Errorf("start: %w", Unconfigured("nic", "eth9", "gone")): RCErrConfigured,
	} {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
	e := Invalid("port", "70000", "must be between %d and %d", 1, 65535)
	if e.Error() != `parameter "port": "70000": must be between 1 and 65535` {
		t.Fatal(e.Error())
	}
}

func TestCheckKnown(t *testing.T) {
	spec := []ParamSpec{{Name: "ip", Aliases: []string{"vip"}}}
	if err := CheckKnown(map[string]string{"ip": "1", "vip": "2", "CRM_meta_interval": "0"}, spec); err != nil {
		t.Fatal(err)
	}
	var pe *ParamError
	if err := CheckKnown(map[string]string{"ipp": "1"}, spec); !errors.As(err, &pe) || pe.Param != "ipp" {
		t.Fatalf("typo not caught: %v", err)
	}
}

func TestMetaRenderIsValidXML(t *testing.T) {
	m := Meta{Name: "x", Version: "1.0", Short: "s & <t>", Long: "l",
		Params:  []ParamSpec{{Name: "ip", Required: true, Unique: true, Short: "a<b", Default: "d"}},
		Actions: StandardActions("20s", "10s")}
	out := m.Render()
	if !strings.HasPrefix(out, "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n") {
		t.Fatal(out)
	}
	var v struct {
		Name   string `xml:"name,attr"`
		Params []struct {
			Name     string `xml:"name,attr"`
			Required string `xml:"required,attr"`
			Short    string `xml:"shortdesc"`
			Content  struct {
				Default string `xml:"default,attr"`
			} `xml:"content"`
		} `xml:"parameters>parameter"`
		Actions []struct {
			Name string `xml:"name,attr"`
		} `xml:"actions>action"`
	}
	body := out[strings.Index(out, "<resource-agent"):]
	if err := xml.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if v.Name != "x" || len(v.Params) != 1 || v.Params[0].Short != "a<b" || v.Params[0].Required != "1" || v.Params[0].Content.Default != "d" || len(v.Actions) != 5 {
		t.Fatalf("%+v", v)
	}
}

func TestFakeClock(t *testing.T) {
	c := NewFakeClock(time.Unix(100, 0))
	a := c.After(2 * time.Second)
	b := c.After(time.Second)
	if c.Waiters() != 2 {
		t.Fatal(c.Waiters())
	}
	c.Advance(time.Second)
	select {
	case <-b:
	default:
		t.Fatal("1s timer did not fire")
	}
	select {
	case <-a:
		t.Fatal("2s timer fired early")
	default:
	}
	c.Advance(time.Second)
	if got := <-a; !got.Equal(time.Unix(102, 0)) {
		t.Fatal(got)
	}
	if !c.Now().Equal(time.Unix(102, 0)) {
		t.Fatal(c.Now())
	}
	<-c.After(0)
}
