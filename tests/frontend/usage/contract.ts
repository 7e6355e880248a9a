// Compiles only if the generated types say what docs/frontend.md says they do.
import type {
  ChangeStageMutation,
  DataSubjectRequestStatus,
  OpenRequestsQuery,
  CreateLeadMutationVariables,
  LeadPageQuery,
  Stage,
} from "../generated/graphql";

export function firstDealValue(page: LeadPageQuery): string | null | undefined {
  // A root query field is nullable: null when your role may not use it.
  const leads = page.leads;
  if (leads == null) return undefined;
  const node = leads.edges[0]?.node;
  const created: string = node.createdAt; // DateTime is an RFC 3339 string
  void created;
  return node.dealValue; // Decimal is a string such as "34533.00"
}

export const newLead: CreateLeadMutationVariables = {
  input: { source: "WEB_FORM", email: "ada@example.com", dealValue: "34533.00" },
};

export function refusedStage(result: ChangeStageMutation): Stage | null {
  const answer = result.changeStage;
  return answer.__typename === "InvalidTransition" ? answer.toStage : null;
}

export function overdueErasures(page: OpenRequestsQuery): string[] {
  // A request's kind and status are the same enums the list filter takes.
  const status: DataSubjectRequestStatus = "IN_PROGRESS";
  return (page.dataSubjectRequests ?? [])
    .filter((request) => request.kind === "ERASURE" && request.status === status)
    .map((request) => request.dueAt);
}
