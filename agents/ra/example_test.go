package ra_test

import (
	"fmt"

	"github.com/gocrm/gocrm/agents/ra"
)

func ExampleValidate() {
	m, err := ra.Parse([]byte(`<resource-agent name="web">
<parameters>
<parameter name="ip" required="1"><content type="string"/></parameter>
<parameter name="port"><content type="integer" default="80"/></parameter>
</parameters>
<actions><action name="start" timeout="20s"/></actions>
</resource-agent>`))
	if err != nil {
		panic(err)
	}
	fmt.Println(ra.Validate(m, map[string]string{"prot": "8080"}))
	fmt.Println(ra.TimeoutWarnings(m, []ra.Op{{Name: "start", Timeout: "10s"}}))
	// Output:
	// required parameter "ip" not defined; parameter "prot" is not known
	// [specified timeout 10s for start is smaller than the advised 20s]
}
