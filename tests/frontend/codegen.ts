import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: "operations/*.graphql",
  generates: {
    "generated/graphql.ts": {
      plugins: ["typescript-operations"],
      config: {
        scalars: {
          DateTime: "string",
          Date: "string",
          Decimal: "string",
          JSON: "unknown",
        },
        strictScalars: true,
        enumType: "string-literal",
        useTypeImports: true,
      },
    },
  },
};

export default config;
