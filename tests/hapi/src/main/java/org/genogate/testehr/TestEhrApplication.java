package org.genogate.testehr;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.autoconfigure.web.embedded.EmbeddedWebServerFactoryCustomizerAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.ServletWebServerFactoryAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * genogate's test EHR: a HAPI FHIR JPA server (R4, H2) for end-to-end tests.
 *
 * <p>Deliberately not {@code @SpringBootApplication}: full auto-configuration would
 * try to build its own DataSource, JPA, Quartz, Jackson and MVC beans around HAPI's.
 * Only the embedded servlet container and its {@code server.*} properties (such as
 * {@code server.port} and {@code server.tomcat.relaxed-query-chars}) are auto-configured;
 * everything else is declared in {@link EhrServerConfig}.
 */
@Configuration(proxyBeanMethods = false)
@ImportAutoConfiguration({
	PropertyPlaceholderAutoConfiguration.class,
	ServletWebServerFactoryAutoConfiguration.class,
	// applies server.tomcat.* (relaxed-query-chars, threads)
	EmbeddedWebServerFactoryCustomizerAutoConfiguration.class
})
@Import(EhrServerConfig.class)
public class TestEhrApplication {

	public static void main(String[] args) {
		new SpringApplicationBuilder(TestEhrApplication.class)
				.web(WebApplicationType.SERVLET)
				.run(args);
	}
}
