package org.genogate.testehr;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.ConfigurationException;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.api.IDaoRegistry;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.config.util.ResourceCountCacheUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect;
import ca.uhn.fhir.jpa.model.entity.StorageSettings;
import ca.uhn.fhir.jpa.provider.DaoRegistryResourceSupportedSvc;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.search.IStaleSearchDeletingSvc;
import ca.uhn.fhir.jpa.search.StaleSearchDeletingSvcImpl;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.jpa.util.ResourceCountCache;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.parser.StrictErrorHandler;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.IResourceSupportedSvc;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import java.io.File;
import java.util.Properties;
import javax.sql.DataSource;
import org.apache.commons.dbcp2.BasicDataSource;
import org.hibernate.cfg.AvailableSettings;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.transaction.annotation.EnableTransactionManagement;

/**
 * The beans HAPI's JPA configuration expects its host application to provide, mirroring
 * what hapi-fhir-jpaserver-starter does, reduced to what a test EHR needs.
 */
@Configuration
@EnableTransactionManagement
@Import({
	ThreadPoolFactoryConfig.class,
	JpaR4Config.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	// batch2 sends its work notifications through HAPI's in-memory message broker
	SubscriptionChannelConfig.class
})
public class EhrServerConfig {

	// ---- storage ---------------------------------------------------------------------------

	/**
	 * H2 in memory by default; with {@code genogate.ehr.db-dir} set, an H2 file database in
	 * that directory (kept across restarts).
	 */
	@Bean(destroyMethod = "close")
	public BasicDataSource dataSource(@Value("${genogate.ehr.db-dir:}") String dbDir) {
		BasicDataSource ds = new BasicDataSource();
		ds.setDriverClassName("org.h2.Driver");
		if (dbDir == null || dbDir.isBlank()) {
			ds.setUrl("jdbc:h2:mem:genogate-ehr;DB_CLOSE_DELAY=-1");
		} else {
			ds.setUrl("jdbc:h2:file:" + new File(dbDir, "ehr").getAbsolutePath());
		}
		ds.setUsername("sa");
		ds.setPassword("");
		ds.setMaxTotal(20);
		return ds;
	}

	@Bean
	public JpaStorageSettings jpaStorageSettings() {
		JpaStorageSettings s = new JpaStorageSettings();
		s.setAllowExternalReferences(true);
		s.setAllowMultipleDelete(true);
		// PUT with client-assigned ids (any form); server-assigned ids are UUIDs, as the
		// starter defaults to with the ANY strategy.
		s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ANY);
		s.setResourceServerIdStrategy(JpaStorageSettings.IdStrategyEnum.UUID);
		// References must resolve; nothing is invented for a dangling one.
		s.setAutoCreatePlaceholderReferenceTargets(false);
		// "Patient?identifier=sys|val" as a reference inside a transaction.
		s.setAllowInlineMatchUrlReferences(true);
		s.setIndexMissingFields(StorageSettings.IndexEnabledEnum.DISABLED);
		// Lets a test reset the server ($expunge / _expunge) between cases.
		s.setExpungeEnabled(true);
		s.setDeleteExpungeEnabled(true);
		return s;
	}

	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			DataSource dataSource,
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings) {
		LocalContainerEntityManagerFactoryBean emf =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		emf.setPersistenceUnitName("HAPI_PU");
		try {
			emf.setDataSource(dataSource);
		} catch (Exception e) {
			throw new ConfigurationException("Could not set the data source", e);
		}
		Properties p = new Properties();
		p.put(AvailableSettings.DIALECT, HapiFhirH2Dialect.class.getName());
		p.put(AvailableSettings.HBM2DDL_AUTO, "update");
		p.put(AvailableSettings.SCANNER, "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		p.put(AvailableSettings.IMPLICIT_NAMING_STRATEGY, SpringImplicitNamingStrategy.class.getName());
		p.put(AvailableSettings.PHYSICAL_NAMING_STRATEGY,
				"org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy");
		p.put(AvailableSettings.FORMAT_SQL, "false");
		p.put(AvailableSettings.SHOW_SQL, "false");
		p.put(AvailableSettings.STATEMENT_BATCH_SIZE, "20");
		p.put(AvailableSettings.USE_QUERY_CACHE, "false");
		p.put(AvailableSettings.USE_SECOND_LEVEL_CACHE, "false");
		p.put(AvailableSettings.USE_STRUCTURED_CACHE, "false");
		p.put(AvailableSettings.USE_MINIMAL_PUTS, "false");
		// No Hibernate Search / Lucene: plain database searches are enough here.
		p.put("hibernate.search.enabled", "false");
		emf.setJpaProperties(p);
		return emf;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		JpaTransactionManager tm = new JpaTransactionManager();
		tm.setEntityManagerFactory(entityManagerFactory);
		return tm;
	}

	// ---- services JpaR4Config expects from its host ----------------------------------------
	// (the starter also declares the Hibernate Search beans, IFulltextSearchSvc and
	// IHSearchSortHelper; with Hibernate Search off nothing needs them)

	/** Not required to start, but without it cached search results are never cleaned up. */
	@Bean
	public IStaleSearchDeletingSvc staleSearchDeletingSvc() {
		return new StaleSearchDeletingSvcImpl();
	}

	/** Needed by the generated R4 resource providers. */
	@Bean
	public IResourceSupportedSvc resourceSupportedSvc(IDaoRegistry daoRegistry) {
		return new DaoRegistryResourceSupportedSvc(daoRegistry);
	}

	/** Needed by JpaCapabilityStatementProvider: without it GET /metadata answers 500. */
	@Bean(name = "myResourceCountsCache")
	public ResourceCountCache resourceCountsCache(IFhirSystemDao<?, ?> systemDao) {
		return ResourceCountCacheUtil.newResourceCountCache(systemDao);
	}

	@Bean
	public DatabaseBackedPagingProvider databaseBackedPagingProvider() {
		DatabaseBackedPagingProvider p = new DatabaseBackedPagingProvider();
		p.setDefaultPageSize(20);
		p.setMaximumPageSize(200);
		return p;
	}

	// ---- the FHIR endpoint ----------------------------------------------------------------------

	@Bean
	public RestfulServer restfulServer(
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviderFactory,
			IJpaSystemProvider jpaSystemProvider,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider,
			@Value("${genogate.ehr.strict-parsing:true}") boolean strictParsing) {
		FhirContext ctx = systemDao.getContext();
		ctx.setNarrativeGenerator(new NullNarrativeGenerator());
		if (strictParsing) {
			// Stock HAPI drops unknown elements with a log line and stores the rest; a test EHR
			// should instead reject them (400 + OperationOutcome), as it does invalid codes.
			ctx.setParserErrorHandler(new StrictErrorHandler());
		}

		RestfulServer server = new RestfulServer(ctx);
		server.registerProviders(resourceProviderFactory.createProviders());
		// The system provider serves transaction/batch Bundles POSTed to the base URL.
		server.registerProvider(jpaSystemProvider);
		server.setServerConformanceProvider(new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport));
		server.setPagingProvider(pagingProvider);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		return server;
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(
			RestfulServer restfulServer, ConfigurableListableBeanFactory beanFactory) {
		beanFactory.autowireBean(restfulServer);
		ServletRegistrationBean<RestfulServer> reg = new ServletRegistrationBean<>(restfulServer, "/fhir/*");
		reg.setLoadOnStartup(1);
		return reg;
	}
}
